//! seaworthy: checks that Kubernetes workloads are fit for production, offline (`seaworthy lint`)
//! and at admission (`seaworthy serve`), with one Rego rule engine. See DESIGN.md for the map.

pub mod baseline;
pub mod check;
pub mod cli;
pub mod config;
pub mod conftest;
pub mod context;
pub mod discover;
pub mod engine;
pub mod finding;
pub mod foreign;
pub mod fuzzing;
pub mod gatekeeper;
pub mod inventory;
pub mod kustomize_source;
pub mod lint;
pub mod manifest;
pub mod namespaces;
pub mod patch_files;
pub mod path;
pub mod policy_test;
pub mod quantity;
pub mod render;
pub mod report;
pub mod schema;
pub mod selector;
pub mod suppress;
pub mod unit;
pub mod webhook;
pub mod workload;
