//! Runnable examples; run one with `cargo run -p pos-sync-examples --example NAME`.
//!
//! | example | what it does |
//! |---|---|
//! | `quickstart` | every flow end to end against the sandboxes |
//! | `lightspeed_to_business_central` | customers, products and closed sales from Lightspeed to Business Central |
//! | `business_central_stock_to_lightspeed` | Business Central inventory back to Lightspeed |
//! | `lightspeed_to_tmas` | hourly sales, transactions, items and staff hours per outlet to TMAS |
//! | `custom_flow` | a flow of your own: `sync-core` with one client |
//! | `worker` | one of many workers sharing the stores through PostgreSQL |
//! | `webhook_receiver` | near-real-time runs started by webhooks, polling beside them |
//!
//! Without settings an example starts in-process sandboxes ([`pos_sync::demo`]); with the
//! settings of the `pos-sync` command ([`pos_sync::config`]) it runs against real accounts.
