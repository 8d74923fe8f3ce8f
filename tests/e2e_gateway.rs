//! The whole system end to end: sipdeck's dashboard (the real binary, in tmux) talks to
//! sipdeck's gateway, which calls sipp over SIP and bridges its RTP.

mod gateway_support;
mod tmux;

use std::time::Duration;

use gateway_support::{Gateway, Sipp};
use tmux::{number_after, sipdeck, Tmux};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_calls_through_the_gateway_to_sipp() {
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let url = gw.url();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().to_path_buf();
    // The terminal is driven from a blocking thread; the gateway runs on the runtime.
    let screen = tokio::task::spawn_blocking(move || {
        let t = Tmux::start(&format!("{} --url {url}", sipdeck()), &cwd, 100, 30, &[]);
        t.wait_for("connection", WAIT, |s| s.contains("● connected"));
        t.keys(&["1"]);
        t.wait_for("the answer", WAIT, |s| s.contains("Call answered") && s.contains("in call with 0938220136"));
        t.wait_for("sipp's audio", WAIT, |s| number_after(s, "Packets").is_some_and(|n| n >= 25));
        t.keys(&["3"]);
        t.wait_for("the hang-up", WAIT, |s| s.contains("srv Call ended"));
        t.keys(&["7"]);
        t.wait_for("the save", WAIT, |s| s.contains("saved "));
        t.keys(&["8"]);
        t.wait_for("exit", WAIT, |s| s.contains("sipdeck exited with"))
    })
    .await
    .unwrap();
    assert!(screen.contains("sipdeck exited with 0"), "{screen}");
    // sipp saw INVITE, ACK and our BYE as its scenario demands.
    assert!(sipp.finish().await.success(), "sipp scenario failed");
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("rtp_capture_"))
        .collect();
    assert_eq!(saved.len(), 1);
    let bytes = std::fs::read(&saved[0]).unwrap();
    let info = sipdeck::core::wav::parse_header(&bytes).unwrap();
    assert!(info.is_phone_ready() && info.data_len >= 25 * 160, "{info:?}");
    gw.stop().await;
}
