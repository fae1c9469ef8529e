//! Integration tests, compiled as one binary (one module per area).

mod support;

mod architecture;
mod build_context;
mod build_fuzz;
mod conformance;
mod docker_build;
mod hardening;
mod history;
mod materiality;
mod no_panic;
mod npm_lock;
mod real_histories;
mod real_pm;
mod recall;
mod repo_use;
mod roundtrip;
mod samples;
mod soundness;
mod traps;
mod yarn_lock;
