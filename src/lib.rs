//! seaworthy: checks that Kubernetes workloads are fit for production, offline (`seaworthy lint`)
//! and at admission (`seaworthy serve`), with one Rego rule engine. See DESIGN.md for the map.

pub mod cli;
pub mod config;
pub mod engine;
pub mod finding;
pub mod inventory;
pub mod lint;
pub mod manifest;
pub mod report;
pub mod suppress;
pub mod workload;
