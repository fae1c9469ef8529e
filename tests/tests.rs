//! Integration tests, compiled as one binary (one module per area).

mod support;

mod build_fuzz;
mod conformance;
mod docker_build;
mod history;
mod no_panic;
mod real_pm;
mod repo_use;
mod roundtrip;
mod samples;
mod traps;
