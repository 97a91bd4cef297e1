//! The OAuth flow against the sandbox: authorise, exchange, rotate, single-flight refresh.
#![cfg(feature = "sandbox")]

use lightspeed_x::sandbox::{DemoData, Sandbox};
use lightspeed_x::*;
use pos_http::ExposeSecret;
use std::sync::Arc;

const REDIRECT: &str = "https://app.example/callback";

async fn authorised(sb: &Sandbox) -> (OAuthApp, MemoryTokenStore) {
    let app = sb.oauth_app(REDIRECT);
    let state = "st-0123456789";
    let url = app
        .authorization_url(state, &["outlets:read", "customers:read"])
        .unwrap();
    // The sandbox's /connect approves at once and redirects back with a code.
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT));
    let callback = app.parse_callback(&location, state).unwrap();
    assert_eq!(callback.domain_prefix, "demo");
    let tokens = app.exchange_code(&callback).await.unwrap();
    assert!(tokens.expires_at.is_some());
    // A code works once.
    assert!(
        app.exchange_code(&callback)
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    let store = MemoryTokenStore::new();
    store.save(&tokens).await.unwrap();
    (app, store)
}

async fn oauth_client(sb: &Sandbox, app: OAuthApp, store: &MemoryTokenStore) -> Client {
    Client::builder()
        .base_url(sb.base_url().as_str())
        .domain_prefix("demo")
        .oauth(app, Arc::new(store.clone()))
        .unlimited()
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn code_exchange_then_calls_with_the_access_token() {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let (app, store) = authorised(&sb).await;
    let client = oauth_client(&sb, app, &store).await;
    assert_eq!(client.outlets().list().all().await.unwrap().len(), 3);
    assert_eq!(
        sb.stats().count("POST /api/1.0/token"),
        2,
        "exchange + reused code only"
    );
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_new_pair_is_stored_first() {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let (app, store) = authorised(&sb).await;
    let first = store.get("demo").unwrap();
    let client = oauth_client(&sb, app.clone(), &store).await;
    client.outlets().list().all().await.unwrap();

    sb.expire_access_tokens();
    let before = sb.stats().count("POST /api/1.0/token");
    // Many concurrent calls hit the 401 together: one refresh serves them all.
    let calls = (0..8).map(|_| {
        let c = client.clone();
        async move { c.registers().list().all().await }
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().len(), 3);
    }
    assert_eq!(
        sb.stats().count("POST /api/1.0/token") - before,
        1,
        "single-flight refresh"
    );

    let second = store.get("demo").unwrap();
    assert_ne!(
        second.refresh_token.expose_secret(),
        first.refresh_token.expose_secret()
    );
    assert_ne!(
        second.access_token.expose_secret(),
        first.access_token.expose_secret()
    );
    // The used refresh token was rotated away: reusing it means authorising again.
    let err = app.refresh("demo", &first.refresh_token).await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert!(err.to_string().contains("authorised again"));
}

#[tokio::test]
async fn revoked_grant_needs_reauthorisation() {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let (app, store) = authorised(&sb).await;
    let client = oauth_client(&sb, app, &store).await;
    sb.expire_access_tokens();
    sb.revoke_refresh_tokens();
    let err = client.outlets().list().all().await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert!(err.to_string().contains("authorised again"), "{err}");
}

#[tokio::test]
async fn no_stored_tokens_is_a_reauthorisation_error() {
    let sb = Sandbox::start().await.unwrap();
    let err = Client::builder()
        .base_url(sb.base_url().as_str())
        .domain_prefix("demo")
        .oauth(sb.oauth_app(REDIRECT), Arc::new(MemoryTokenStore::new()))
        .build()
        .await
        .unwrap_err();
    assert!(err.needs_reauthorization());
}

#[tokio::test]
async fn forged_state_is_refused() {
    let sb = Sandbox::start().await.unwrap();
    let app = sb.oauth_app(REDIRECT);
    let cb = sb.approve(REDIRECT, "attacker-state-000");
    assert!(matches!(
        app.parse_callback(&cb, "my-state-12345"),
        Err(Error::OAuthCallback(_))
    ));
    let ok = app.parse_callback(&cb, "attacker-state-000").unwrap();
    app.exchange_code(&ok).await.unwrap();
}

/// A store whose saves fail: the rotated pair must not be used when it could not be kept.
#[derive(Debug)]
struct FailingStore(MemoryTokenStore);

#[async_trait::async_trait]
impl TokenStore for FailingStore {
    async fn load(&self, prefix: &str) -> Result<Option<TokenSet>, TokenStoreError> {
        self.0.load(prefix).await
    }
    async fn save(&self, _: &TokenSet) -> Result<(), TokenStoreError> {
        Err(TokenStoreError("disk full".into()))
    }
}

#[tokio::test]
async fn a_pair_that_cannot_be_saved_is_not_used() {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let (app, store) = authorised(&sb).await;
    let client = Client::builder()
        .base_url(sb.base_url().as_str())
        .domain_prefix("demo")
        .oauth(app, Arc::new(FailingStore(store.clone())))
        .unlimited()
        .build()
        .await
        .unwrap();
    client.outlets().list().all().await.unwrap();
    sb.expire_access_tokens();
    let outlets = format!("GET /api/{}/outlets", client.api_version());
    let before = sb.stats().count(&outlets);
    let err = client.outlets().list().all().await.unwrap_err();
    assert!(matches!(err, Error::TokenRefresh { .. }), "{err:?}");
    assert!(err.to_string().contains("could not be saved"), "{err}");
    // Only the request that got the 401 reached the API; nothing was sent with the unsaved token.
    assert_eq!(sb.stats().count(&outlets) - before, 1);
}
