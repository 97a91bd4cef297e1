//! Example integrations live under `examples/`; run one with `cargo run --example NAME`.
