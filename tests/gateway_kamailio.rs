//! The gateway through kamailio (Debian package `kamailio`, installed by scripts/setup.sh)
//! as a proxy that challenges every INVITE with 407 digest auth (qop=auth, password checked
//! in plain text, no database) and relays the authenticated ones to an auto-answering baresip.

mod gateway_support;

use std::net::SocketAddr;

use gateway_support::baresip::Baresip;
use gateway_support::kamailio::Kamailio;
use gateway_support::{Client, Gateway};
use sipdeck::core::rtp;
use sipdeck::server::sip::Account;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// The proxy's script. Its `sipdeck-test:` log lines are what the tests wait for.
fn config(port: u16, far_end: SocketAddr) -> String {
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"

event_route[core:worker-one-init] {{
  xlog("L_NOTICE", "sipdeck-test: ready\n");
}}

request_route {{
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (has_totag()) {{
    if (loose_route()) {{
      xlog("L_NOTICE", "sipdeck-test: in-dialog $rm\n");
      t_relay();
      exit;
    }}
    if (is_method("ACK") && t_check_trans()) {{ t_relay(); }}
    exit;
  }}
  if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
  if (is_method("INVITE")) {{
    if (!is_present_hf("Proxy-Authorization")) {{
      xlog("L_NOTICE", "sipdeck-test: challenge (no credentials)\n");
      proxy_challenge("sipdeck.test", "1");
      exit;
    }}
    if ($au != "{USER}" || !pv_proxy_authenticate("sipdeck.test", "{PASSWORD}", "0")) {{
      xlog("L_NOTICE", "sipdeck-test: challenge (credentials rejected for $au)\n");
      proxy_challenge("sipdeck.test", "1");
      exit;
    }}
    consume_credentials();
    xlog("L_NOTICE", "sipdeck-test: relay INVITE\n");
  }}
  record_route();
  rewritehostport("{far_end}");
  if (!t_relay()) {{ sl_reply_error(); }}
}}
"#
    )
}

fn account(password: Option<&str>) -> Account {
    Account { user: password.map(|_| USER.to_string()), password: password.map(str::to_string), domain: None }
}

/// Call 1000 through kamailio with `password` (none: no credentials at all) and return the
/// client once the call is answered or has failed.
async fn call_through_kamailio(password: Option<&str>) -> Option<(Client, Kamailio, Gateway, Baresip)> {
    let far = Baresip::start("PCMU").await?;
    let kam = Kamailio::start(|port| config(port, far.addr())).await;
    let gw = Gateway::start(kam.addr(), |cfg| cfg.sip.account = account(password)).await;
    let mut c = Client::connect(&gw.url()).await;
    c.send("CALL:1000").await;
    Some((c, kam, gw, far))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_gets_through_to_baresip() {
    let Some((mut c, mut kam, gw, _far)) = call_through_kamailio(Some(PASSWORD)).await else { return };
    c.line("Call answered").await;
    // The first INVITE was challenged, the answer to it let through.
    kam.saw_log("sipdeck-test: challenge (no credentials)").await;
    kam.saw_log("sipdeck-test: relay INVITE").await;
    // baresip's sine, relayed media path aside: RTP goes straight between the ends.
    c.rtp_frames(50).await;
    for pkt in &c.rtp {
        assert_eq!(rtp::parse(pkt).unwrap().header.payload_type, 0);
    }
    c.send("HANGUP").await;
    c.line("Call ended").await;
    // The BYE followed the recorded route through the proxy.
    kam.saw_log("sipdeck-test: in-dialog BYE").await;
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_told_apart_as_rejected() {
    let Some((mut c, mut kam, gw, _far)) = call_through_kamailio(Some("wrong")).await else { return };
    let line = c.line("Call failed: 407").await;
    assert!(line.ends_with("(credentials rejected)"), "{line}");
    kam.saw_log(&format!("sipdeck-test: challenge (credentials rejected for {USER})")).await;
    assert!(!kam.logged("sipdeck-test: relay"), "kamailio relayed a wrong password");
    c.close().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_fails_without_claiming_rejection() {
    let Some((mut c, mut kam, gw, _far)) = call_through_kamailio(None).await else { return };
    let line = c.line("Call failed: 407").await;
    assert!(!line.contains("rejected"), "{line}");
    kam.saw_log("sipdeck-test: challenge (no credentials)").await;
    assert!(!kam.logged("sipdeck-test: relay"), "kamailio relayed without credentials");
    c.close().await;
    gw.stop().await;
}
