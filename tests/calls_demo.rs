//! Two calls in a row against the embedded demo peer, each saved on its own as it ends
//! (`--save-calls`): separate files whose lengths are each call's own recording.

mod common;

use common::{fast_demo, Client, WAIT};
use sipdeck::client::app::{CallResult, CallState, SaveCalls};
use sipdeck::core::wav;

#[tokio::test]
async fn two_calls_are_saved_as_two_files_of_their_own_length() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.app.cfg.save_calls = SaveCalls::Wav;
    c.until("connected", WAIT, |a| a.connected()).await;
    for (i, want) in [(1usize, 50u64), (2, 120)] {
        c.key('1').await;
        c.until("call answered", WAIT, |a| matches!(a.call, CallState::Active { .. })).await;
        c.until("packets", WAIT, move |a| a.streams.iter().map(|s| s.unique()).sum::<u64>() >= want).await;
        c.key('3').await;
        c.until("call saved", WAIT, move |a| a.calls.history.len() == i && a.calls.history[i - 1].file.is_some()).await;
        c.until("server confirms", WAIT, |a| !a.call.in_progress()).await;
    }
    let h: Vec<_> = c.app.calls.history.iter().cloned().collect();
    assert_eq!(h.len(), 2);
    assert_ne!(h[0].file, h[1].file);
    for r in &h {
        assert_eq!(r.result, CallResult::Answered);
        let path = r.file.as_ref().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("call_") && name.contains("_0938220136") && name.ends_with(".wav"), "{name}");
        let bytes = std::fs::read(path).unwrap();
        let info = wav::parse_header(&bytes).unwrap();
        // The file holds this call only: its own packets' worth of audio, not everything
        // since the start.
        assert_eq!(info.data_len as f64 / 8000.0, r.seconds, "{name}");
        assert_eq!(info.data_len as u64, r.packets * 160, "{name}");
    }
    assert!(h[1].packets >= 120 && h[0].packets < h[1].packets + 50);
    let total: u64 = h.iter().map(|r| r.packets).sum();
    assert!(c.app.rtp.packets >= total && h[1].packets < c.app.rtp.packets);
}

#[path = "common/tshark.rs"]
mod tshark;

/// A lossy, reordering demo call saved as a pcap (`P`): Wireshark's RTP analysis counts the
/// packets and losses sipdeck's own stream statistics count, from the call's spill file.
#[tokio::test]
async fn a_calls_pcap_reads_in_tshark_as_sipdeck_counted_it() {
    let cfg = sipdeck::server::demo::DemoConfig { drop_every: Some(25), reorder_every: Some(40), ..fast_demo() };
    let demo = sipdeck::server::demo::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.key('1').await;
    c.until("packets", WAIT, |a| a.streams.iter().map(|s| s.unique()).sum::<u64>() >= 300).await;
    c.key('3').await;
    c.until("call ended", WAIT, |a| !a.call.in_progress() && a.calls.history.len() == 1).await;
    c.key('P').await;
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
    let path = c.app.last_save.clone().unwrap();
    assert!(path.extension().is_some_and(|e| e == "pcap"), "{path:?}");
    let (theirs, report) = tshark::rtp_streams(&path);
    let mut ours: Vec<(u32, u64, i64)> = c.app.streams.iter().map(|s| (s.ssrc, s.packets, s.lost() as i64)).collect();
    ours.sort();
    assert!(ours.iter().all(|r| r.2 > 0), "the demo dropped packets: {ours:?}");
    assert_eq!(theirs, ours, "tshark's report:\n{report}");
}

/// `7 all`: every kept call, one after the other, in one WAV.
#[tokio::test]
async fn save_all_puts_every_kept_call_in_one_file() {
    let demo = sipdeck::server::demo::start(fast_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    for i in 1..=2usize {
        c.key('1').await;
        c.until("packets", WAIT, |a| a.streams.iter().map(|s| s.unique()).sum::<u64>() >= 60).await;
        c.key('3').await;
        c.until("call ended", WAIT, move |a| !a.call.in_progress() && a.calls.history.len() == i).await;
    }
    let fx = c.app.command(sipdeck::client::app::command::Command::SaveAll);
    for e in fx {
        c.apply(e).await;
    }
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
    let path = c.app.last_save.clone().unwrap();
    assert!(path.file_name().unwrap().to_string_lossy().starts_with("rtp_capture_all_"), "{path:?}");
    let bytes = std::fs::read(&path).unwrap();
    let info = wav::parse_header(&bytes).unwrap();
    // The newest call's row was written at its end line; packets that trailed it are in its
    // recording (an earlier call's row was brought up to date when the next call began).
    let rows = c.app.calls.history.len();
    let earlier: f64 = c.app.calls.history.iter().take(rows - 1).map(|r| r.seconds).sum();
    assert_eq!(info.data_len as f64 / 8000.0, earlier + c.app.capture.seconds());
}
