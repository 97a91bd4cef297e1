//! Benchmarks for the POS SDK; run them with `cargo bench`.
