//! `sipdeck gateway` as a process: flags, the address it prints, and SIGTERM hanging up
//! the call in progress before it exits.

mod gateway_support;

use std::time::Duration;

use gateway_support::process::GatewayProcess;
use gateway_support::{Client, Sipp};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hangs_up_the_call_then_exits() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let store = tempfile::tempdir().unwrap();
    // It says where it listens (port 0: the OS chose, and only the gateway knows); no drain:
    // SIGTERM hangs up at once (tests/gateway_haproxy.rs drains).
    let mut gw = GatewayProcess::start(sipp.addr, store.path(), &["--rtp-ports", "30000-39999", "--drain-timeout", "0"]).await;
    let mut c = Client::connect(&gw.url).await;
    c.send("CALL:5550500").await;
    c.line("Call answered").await;
    c.rtp_frames(3).await;
    gw.signal("TERM");
    c.line("Call ended").await;
    assert_eq!(c.close_code().await, Some(1001));
    let status = gw.exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
    assert!(sipp.finish().await.success(), "sipp got no BYE before the gateway exited");
}

#[tokio::test]
async fn refuses_bad_flags_with_a_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipdeck"))
        .args(["gateway", "--sip-target", "127.0.0.1:5060", "--rtp-ports", "9-3"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rtp-ports"));
}
