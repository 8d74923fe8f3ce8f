//! `--register` end to end: sipp as a registrar with digest authentication (register,
//! refresh before expiry, unregister on shutdown), sipp refusing (calls refused while
//! unregistered, retry after backoff), and kamailio's registrar and usrloc modules.

mod gateway_support;

use std::net::SocketAddr;

use gateway_support::{Client, Gateway, Sipp};
use sipdeck::server::gateway::GatewayConfig;
use sipdeck::server::sip::register::RegisterConfig;
use sipdeck::server::sip::Account;

fn registering(cfg: &mut GatewayConfig, registrar: SocketAddr, password: &str) {
    cfg.sip.account = Account { user: Some("alice".into()), password: Some(password.into()), domain: None };
    cfg.register = Some(RegisterConfig { registrar: Some(format!("sip:{registrar}")), expires: 60 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest_refreshes_and_unregisters_on_shutdown() {
    let sipp = Sipp::start("registrar_digest.xml", &[]);
    let registrar = sipp.addr;
    let gw = Gateway::start(registrar, |cfg| registering(cfg, registrar, "s3cret")).await;
    let mut c = Client::connect(&gw.url()).await;
    let aor = format!("sip:alice@{registrar}");
    // The first grant is 2 s: the refresh comes at 75 % of it, granted 60 s.
    assert_eq!(c.line("Registered").await, format!("Registered as {aor} (expires 2 s)"));
    assert_eq!(c.line("Registered").await, format!("Registered as {aor} (expires 60 s)"));
    c.close().await;
    gw.stop().await;
    let (status, messages) = sipp.finish_keeping_logs().await;
    assert!(status.success(), "sipp scenario failed");
    // Three registrations, each challenged once: register, refresh, unregister.
    assert_eq!(messages.matches("Authorization: Digest").count(), 3, "{messages}");
    assert!(messages.contains("Expires: 0"), "no unregister: {messages}");
    assert!(messages.contains("Contact: <sip:alice@127.0.0.1:"), "{messages}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_refused_while_the_registrar_refuses_and_it_is_retried() {
    let sipp = Sipp::start("registrar_forbidden.xml", &[]);
    let registrar = sipp.addr;
    let gw = Gateway::start(registrar, |cfg| registering(cfg, registrar, "wrong")).await;
    let mut c = Client::connect(&gw.url()).await;
    assert_eq!(c.line("Registration failed").await, "Registration failed: 403 Forbidden");
    c.send("CALL:1000").await;
    assert_eq!(c.line("Call failed").await, "Call failed: not registered (403 Forbidden)");
    // The retry after the backoff (1 s) is the scenario's second REGISTER.
    let status = sipp.finish().await;
    assert!(status.success(), "sipp saw no retry");
    gw.stop().await;
}
