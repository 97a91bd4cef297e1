//! Starts the in-process sandboxes of the APIs in place of real accounts, for the examples and
//! for trying the flows without accounts (feature `demo`).

use pos_sync_flows::lightspeed_business_central::Accounts;

use crate::config::{
    BusinessCentralConfig, ConfigError, Env, LightspeedConfig, lightspeed_api_version, state_path,
};

/// The accounts of the Lightspeed <-> Business Central examples: real ones from the environment,
/// or both sandboxes (kept running as long as this lives).
#[derive(Debug)]
pub struct BcSetup {
    /// The two clients and the company.
    pub accounts: pos_sync_flows::lightspeed_business_central::Accounts,
    /// Where state is kept (SQLite for real accounts, memory for sandboxes).
    pub store: std::sync::Arc<dyn sync_core::state::StateStore>,
    /// The tenant the state is kept under.
    pub tenant: String,
    /// `BC_DEFAULT_CUSTOMER` (the sandbox: `10000`).
    pub default_customer: Option<String>,
    /// `LIGHTSPEED_OUTLET_ID`.
    pub outlet: Option<lightspeed_x::OutletId>,
    /// The Lightspeed sandbox, when no store is configured.
    pub lightspeed_sandbox: Option<lightspeed_x::sandbox::Sandbox>,
    /// The Business Central sandbox, when no company is configured.
    pub business_central_sandbox: Option<business_central::sandbox::Sandbox>,
}

impl BcSetup {
    /// Real accounts when both `LIGHTSPEED_*` and `BC_*` are set, both sandboxes (Lightspeed
    /// seeded with `demo`) when neither is; one without the other is an error.
    pub async fn from_env(
        env: &impl Env,
        demo: lightspeed_x::sandbox::DemoData,
    ) -> anyhow::Result<Self> {
        let outlet = env
            .var("LIGHTSPEED_OUTLET_ID")?
            .map(lightspeed_x::OutletId::new);
        let default_customer = env.var("BC_DEFAULT_CUSTOMER")?;
        match (LightspeedConfig::from_env(env)?, BusinessCentralConfig::from_env(env)?) {
            (Some(ls), Some(bc)) => {
                let store = sync_core::state::SqliteStore::open(state_path(env)?).await?;
                let accounts = Accounts::new(ls.client().await?, bc.client()?, bc.company);
                Ok(Self {
                    accounts,
                    store: std::sync::Arc::new(store),
                    tenant: ls.domain_prefix.clone(),
                    default_customer,
                    outlet,
                    lightspeed_sandbox: None,
                    business_central_sandbox: None,
                })
            }
            (None, None) => {
                let ls = lightspeed_x::sandbox::Sandbox::start_seeded(demo).await?;
                let bc = business_central::sandbox::Sandbox::start().await?;
                // The sandbox serves every version, so LIGHTSPEED_API_VERSION applies to it too.
                let client = ls
                    .client_builder()
                    .api_version(lightspeed_api_version(env)?)
                    .build()
                    .await?;
                let accounts = Accounts::new(client, bc.client(), bc.company_id());
                Ok(Self {
                    accounts,
                    store: std::sync::Arc::new(sync_core::state::MemoryStore::new()),
                    tenant: "sandbox".into(),
                    default_customer: default_customer.or_else(|| Some("10000".into())),
                    outlet,
                    lightspeed_sandbox: Some(ls),
                    business_central_sandbox: Some(bc),
                })
            }
            (Some(_), None) => Err(ConfigError::new(
                "BC_TENANT_ID",
                "a Lightspeed store is configured but no Business Central company (set BC_*)",
            )
            .into()),
            (None, Some(_)) => Err(ConfigError::new(
                "LIGHTSPEED_DOMAIN_PREFIX",
                "a Business Central company is configured but no Lightspeed store (set LIGHTSPEED_*)",
            )
            .into()),
        }
    }

    /// Whether the sandboxes are in use.
    pub fn is_sandbox(&self) -> bool {
        self.business_central_sandbox.is_some()
    }
}
