//! The context of the request being served: who makes it and the warnings gathered for its
//! response. Handlers, the generic store and admission plugins read it through task-local
//! storage, as Go's `context.Context` carries the same things upstream.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::auth::UserInfo;

/// One request's context.
#[derive(Debug)]
pub struct RequestContext {
    /// The authenticated (and possibly impersonated) user.
    pub user: Arc<UserInfo>,
    /// Warnings for the `Warning` response header.
    pub warnings: Mutex<Vec<String>>,
    /// What the audit event of the request will hold.
    pub audit: Mutex<crate::audit::Record>,
}

impl RequestContext {
    /// A context for a user.
    pub fn new(user: UserInfo) -> RequestContext {
        RequestContext { user: Arc::new(user), warnings: Default::default(), audit: Default::default() }
    }
}

/// Keeps the request body for the audit log when the request's level wants it.
pub fn record_request(body: &bytes::Bytes) {
    let _ = CURRENT.try_with(|c| {
        let mut a = c.audit.lock();
        if a.level >= crate::audit::Level::Request {
            a.request = Some(body.clone());
        }
    });
}

/// Keeps the response body for the audit log when the request's level wants it.
pub fn record_response(body: &bytes::Bytes) {
    let _ = CURRENT.try_with(|c| {
        let mut a = c.audit.lock();
        if a.level >= crate::audit::Level::RequestResponse {
            a.response = Some(body.clone());
        }
    });
}

/// Adds an audit annotation to the current request.
pub fn audit_annotation(key: &str, value: String) {
    let _ = CURRENT.try_with(|c| {
        c.audit.lock().annotations.insert(key.to_string(), serde_json::Value::String(value));
    });
}

tokio::task_local! {
    static CURRENT: Arc<RequestContext>;
}

/// Runs a request's handling within its context.
pub async fn scope<F: std::future::Future>(ctx: Arc<RequestContext>, f: F) -> F::Output {
    CURRENT.scope(ctx, f).await
}

/// The user of the request being handled (the apiserver itself outside a request).
pub fn user() -> Arc<UserInfo> {
    CURRENT.try_with(|c| c.user.clone()).unwrap_or_else(|_| Arc::new(UserInfo::apiserver()))
}

/// Adds a warning to the current request's response (dropped outside a request).
pub fn add_warning(message: String) {
    let _ = CURRENT.try_with(|c| {
        let mut w = c.warnings.lock();
        if !w.contains(&message) {
            w.push(message);
        }
    });
}
