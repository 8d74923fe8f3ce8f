//! `sipdeck gateway` as a process: flags, the address it prints, and SIGTERM hanging up
//! the call in progress before it exits.

mod gateway_support;

use std::process::Stdio;
use std::time::Duration;

use gateway_support::{Client, Sipp};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hangs_up_the_call_then_exits() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let store = tempfile::tempdir().unwrap();
    let mut gw = Command::new(env!("CARGO_BIN_EXE_sipdeck"))
        .args(["gateway", "--listen", "127.0.0.1:0", "--sip-listen", "127.0.0.1:0"])
        .args(["--sip-target", &sipp.addr.to_string(), "--rtp-ports", "30000-39999"])
        // No drain: SIGTERM hangs up at once (tests/gateway_haproxy.rs drains).
        .args(["--drain-timeout", "0"])
        .arg("--store")
        .arg(store.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run sipdeck gateway");
    // It says where it listens: port 0 means the OS chose, and only the gateway knows.
    let mut stderr = BufReader::new(gw.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("sipdeck gateway: ") {
                return rest.split(' ').next().unwrap().to_string();
            }
        }
        panic!("the gateway exited without saying where it listens");
    })
    .await
    .expect("the gateway starts");
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });

    let mut c = Client::connect(&url).await;
    c.send("CALL:5550500").await;
    c.line("Call answered").await;
    c.rtp_frames(3).await;
    let pid = gw.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    c.line("Call ended").await;
    assert_eq!(c.close_code().await, Some(1001));
    let status = tokio::time::timeout(Duration::from_secs(10), gw.wait()).await.expect("exits").unwrap();
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
