//! `--register` end to end: sipp as a registrar with digest authentication (register,
//! refresh before expiry, unregister on shutdown), sipp refusing (calls refused while
//! unregistered, retry after backoff), and kamailio's registrar and usrloc modules.

mod gateway_support;

use std::net::SocketAddr;

use gateway_support::kamailio::Kamailio;
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

/// kamailio as the registrar: its `registrar` and `usrloc` modules (no database), digest
/// authentication, and OPTIONS to the AOR routed with `lookup("location")`.
mod kamailio {
    use std::net::SocketAddr;

    use super::gateway_support::WAIT;

    pub fn config(port: u16) -> String {
        format!(
            r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias=127.0.0.1:{port}

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)

event_route[core:worker-one-init] {{
  xlog("L_NOTICE", "sipdeck-test: ready\n");
}}

request_route {{
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (is_method("REGISTER")) {{
    if (!pv_www_authenticate("sipdeck.test", "s3cret", "0")) {{
      www_challenge("sipdeck.test", "1");
      exit;
    }}
    if (!save("location")) {{ sl_reply_error(); exit; }}
    xlog("L_NOTICE", "sipdeck-test: saved $tu expires=$hdr(Expires)\n");
    exit;
  }}
  if (is_method("OPTIONS")) {{
    if (!lookup("location")) {{
      xlog("L_NOTICE", "sipdeck-test: not found $tu\n");
      sl_send_reply("404", "Not Found");
      exit;
    }}
    xlog("L_NOTICE", "sipdeck-test: found $ru\n");
    t_relay();
    exit;
  }}
  sl_send_reply("405", "Method Not Allowed");
}}
"#
        )
    }

    /// kamailio in the foreground, its stderr forwarded line by line; SIGTERM when dropped.
    /// Send an OPTIONS for `user` to kamailio and return the first line of its final answer.
    pub async fn probe(kamailio: SocketAddr, user: &str, n: u32) -> String {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let me = sock.local_addr().unwrap();
        let msg = format!(
            "OPTIONS sip:{user}@{kamailio} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-probe-{n}\r\nMax-Forwards: 70\r\n\
             From: <sip:probe@{me}>;tag=probe{n}\r\nTo: <sip:{user}@{kamailio}>\r\nCall-ID: probe-{n}@127.0.0.1\r\n\
             CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        sock.send_to(msg.as_bytes(), kamailio).await.unwrap();
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf)).await.expect("an answer to OPTIONS").unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let first = text.lines().next().unwrap_or_default().to_string();
            if !first.starts_with("SIP/2.0 1") {
                return first;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_lists_the_contact_until_the_gateway_unregisters() {
    let mut kam = Kamailio::start(kamailio::config).await;
    let gw = Gateway::start(kam.addr(), |cfg| {
        cfg.sip.account = Account { user: Some("alice".into()), password: Some("s3cret".into()), domain: None };
        cfg.register = Some(RegisterConfig { registrar: None, expires: 120 });
    })
    .await;
    let mut c = Client::connect(&gw.url()).await;
    let aor = format!("sip:alice@{}", kam.addr());
    assert_eq!(c.line("Registered").await, format!("Registered as {aor} (expires 120 s)"));
    kam.wait_log("sipdeck-test: saved").await;
    // The AOR now reaches the gateway, which answers the OPTIONS itself.
    assert_eq!(kamailio::probe(kam.addr(), "alice", 1).await, "SIP/2.0 200 OK");
    let found = kam.wait_log("sipdeck-test: found").await;
    assert!(found.contains("sip:alice@127.0.0.1:"), "{found}");
    c.close().await;
    gw.stop().await;
    kam.wait_log("sipdeck-test: saved").await;
    assert_eq!(kamailio::probe(kam.addr(), "alice", 2).await, "SIP/2.0 404 Not Found");
}
