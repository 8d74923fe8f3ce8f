//! The gateway's registration (`--register`, RFC 3261 10): REGISTER of `--sip-user` at the
//! registrar with digest authentication at start, refreshed at 75 % of the expiry the
//! registrar grants, retried with backoff (1 s doubling to 60 s) after a failure, and
//! removed with `Expires: 0` on shutdown ([`Registrar::unregister`]). The state is logged,
//! published on a `watch` channel ([`Registrar::state`], for metrics and for calls) and
//! told to connected clients as a status line when it changes.

use std::sync::Mutex;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::typed::Contact;
use rsipstack::sip::{Header, Response, Uri};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::agent::{SipAgent, SipError};

/// How long shutdown waits for the registrar to answer the unregister.
const UNREGISTER_WAIT: Duration = Duration::from_secs(3);

/// What `--register` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterConfig {
    /// The registrar's URI (`--registrar`); the SIP target's when `None`.
    pub registrar: Option<String>,
    /// The expiry asked for, in seconds (`--register-expires`); the registrar may grant less.
    pub expires: u32,
}

/// Where the registration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegState {
    /// The first REGISTER is on its way.
    Registering,
    Registered { aor: String, expires: u32 },
    /// The last attempt failed; another follows after the backoff.
    Failed { why: String },
    /// Removed on shutdown.
    Unregistered,
}

impl RegState {
    pub fn is_registered(&self) -> bool {
        matches!(self, RegState::Registered { .. })
    }

    /// The status line clients are told.
    pub fn status_line(&self) -> String {
        match self {
            RegState::Registering => "Registering".to_string(),
            RegState::Registered { aor, expires } => format!("Registered as {aor} (expires {expires} s)"),
            RegState::Failed { why } => format!("Registration failed: {why}"),
            RegState::Unregistered => "Unregistered".to_string(),
        }
    }

    /// Why a call cannot be placed now (`None`: it can).
    pub fn refusal(&self) -> Option<String> {
        match self {
            RegState::Registered { .. } => None,
            RegState::Registering => Some("Call failed: not registered (registration in progress)".to_string()),
            RegState::Failed { why } => Some(format!("Call failed: not registered ({why})")),
            RegState::Unregistered => Some("Call failed: not registered (unregistered)".to_string()),
        }
    }
}

/// The running registration.
pub struct Registrar {
    state: watch::Receiver<RegState>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Registrar {
    /// Register `agent`'s user now and keep the registration up until [`unregister`].
    ///
    /// [`unregister`]: Registrar::unregister
    pub fn start(agent: &SipAgent, cfg: &RegisterConfig) -> Result<Registrar, SipError> {
        let account = agent.account();
        let user = account.user.clone().unwrap_or_else(|| "sipdeck".to_string());
        let registrar = cfg.registrar.clone().unwrap_or_else(|| format!("sip:{}", agent.target()));
        let registrar = registrar.strip_prefix("sip:").map(|r| format!("sip:{r}")).unwrap_or(registrar);
        let credential = account.password.clone().map(|password| Credential {
            username: user.clone(),
            password,
            realm: None,
            auth_username: None,
        });
        // The To header names the user from the credential; without one, the URI carries it.
        let server_text = match credential {
            Some(_) => registrar.clone(),
            None => registrar.replacen("sip:", &format!("sip:{user}@"), 1),
        };
        let server = parse_uri(&server_text)?;
        let aor = registrar.replacen("sip:", &format!("sip:{user}@"), 1);
        let mut registration = Registration::new(agent.endpoint_inner(), credential);
        registration.contact = Some(Contact { display_name: None, uri: parse_uri(&format!("sip:{user}@{}", agent.local()))?, params: vec![] });
        let (tx, state) = watch::channel(RegState::Registering);
        let stop = CancellationToken::new();
        let task = tokio::spawn(keep_registered(registration, server, aor, cfg.expires, tx, stop.clone()));
        Ok(Registrar { state, stop, task: Mutex::new(Some(task)) })
    }

    /// The state, as it changes (for metrics, and for calls to refuse while unregistered).
    pub fn state(&self) -> watch::Receiver<RegState> {
        self.state.clone()
    }

    /// Stop refreshing and remove the registration (`Expires: 0`), waiting a few seconds
    /// at most for the registrar's answer. Calling it again does nothing.
    pub async fn unregister(&self) {
        self.stop.cancel();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut task) = task {
            if tokio::time::timeout(UNREGISTER_WAIT, &mut task).await.is_err() {
                tracing::warn!("no answer to the unregister in time");
                task.abort();
            }
        }
    }
}

impl Drop for Registrar {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

fn parse_uri(text: &str) -> Result<Uri, SipError> {
    Uri::try_from(text).map_err(|e| SipError::Uri { uri: text.to_string(), why: e.to_string() })
}

/// Register, refresh and retry (rsipstack's keep-alive loop) until told to stop, then
/// unregister with the same Call-ID and Contact.
async fn keep_registered(mut registration: Registration, server: Uri, aor: String, expires: u32, state: watch::Sender<RegState>, stop: CancellationToken) {
    tracing::info!(%aor, %server, expires, "registering");
    registration
        .keep_alive(server.clone(), expires, stop, |outcome| {
            let next = match outcome {
                RefreshOutcome::Registered(resp) => RegState::Registered { aor: aor.clone(), expires: granted(resp, expires) },
                RefreshOutcome::Rejected(resp) => {
                    RegState::Failed { why: format!("{} {}", resp.status_code.code(), resp.status_code.text()) }
                }
                RefreshOutcome::Failed(e) => RegState::Failed { why: e.to_string() },
            };
            publish(&state, next);
        })
        .await;
    match registration.register(server, Some(0)).await {
        Ok(resp) => tracing::info!(%aor, code = resp.status_code.code(), "unregistered"),
        Err(e) => tracing::warn!(%aor, error = %e, "unregister"),
    }
    publish(&state, RegState::Unregistered);
}

/// The expiry a 2xx grants (RFC 3261 10.2.4): a Contact's `expires` parameter, else the
/// Expires header, else what was asked. (The keep-alive loop refreshes on the same value.)
fn granted(resp: &Response, asked: u32) -> u32 {
    let param = |h: &Header| {
        let v = h.value().to_ascii_lowercase();
        let rest = v.split("expires=").nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let contact = resp.headers.iter().filter(|h| h.name().eq_ignore_ascii_case("Contact")).find_map(param);
    let header = || {
        let h = resp.headers.iter().find(|h| h.name().eq_ignore_ascii_case("Expires"))?;
        h.value().trim().parse().ok()
    };
    contact.or_else(header).unwrap_or(asked)
}

/// A new state: logged and published when it differs from the last one.
fn publish(state: &watch::Sender<RegState>, next: RegState) {
    state.send_if_modified(|now| {
        if *now == next {
            return false;
        }
        match &next {
            RegState::Failed { why } => tracing::warn!(%why, "registration failed"),
            other => tracing::info!(state = %other.status_line(), "registration"),
        }
        *now = next;
        true
    });
}

/// Mirror the registration state into the gateway's `sipdeck_registered` gauge for as long
/// as the registrar runs.
pub async fn report_to_metrics(mut state: watch::Receiver<RegState>, metrics: std::sync::Arc<crate::server::metrics::Metrics>) {
    loop {
        let registered = state.borrow_and_update().is_registered();
        metrics.set_registered(registered);
        if state.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_as_status_lines_and_refusals() {
        let ok = RegState::Registered { aor: "sip:alice@pbx".into(), expires: 300 };
        assert_eq!(ok.status_line(), "Registered as sip:alice@pbx (expires 300 s)");
        assert_eq!(ok.refusal(), None);
        let failed = RegState::Failed { why: "403 Forbidden".into() };
        assert_eq!(failed.status_line(), "Registration failed: 403 Forbidden");
        assert_eq!(failed.refusal().unwrap(), "Call failed: not registered (403 Forbidden)");
        assert!(RegState::Registering.refusal().unwrap().starts_with("Call failed: not registered"));
    }
}
