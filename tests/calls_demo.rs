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
