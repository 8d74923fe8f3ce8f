//! Stream analysis and gap-true recording against the embedded demo peer told to drop and
//! reorder packets: the real network actor, the real app fold, real files.

mod common;

use std::time::Instant;

use common::{fast_demo, Client, WAIT};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sipdeck::client::app::{CallState, RecordFormat};
use sipdeck::server::demo::DemoConfig;
use sipdeck::core::stats::StreamStats;
use sipdeck::client::ui::streams::render_streams;
use sipdeck::client::ui::theme::Theme;
use sipdeck::core::wav;

const DROP_EVERY: u64 = 10;
const REORDER_EVERY: u64 = 7;

/// The demo numbers its packets n = 1, 2, ...: it drops every n divisible by 10, and sends
/// every other n divisible by 7 after the packet that follows it.
fn lossy_demo() -> DemoConfig {
    DemoConfig { drop_every: Some(DROP_EVERY as u32), reorder_every: Some(REORDER_EVERY as u32), ..fast_demo() }
}

/// Packets sent late among the first `expected`: a held packet is late unless it is the last.
fn late_among(expected: u64) -> u64 {
    (1..expected).filter(|n| n % REORDER_EVERY == 0 && n % DROP_EVERY != 0).count() as u64
}

fn only_stream(c: &Client) -> &StreamStats {
    assert_eq!(c.app.streams.len(), 1, "{}", c.log_text());
    c.app.streams.iter().next().unwrap()
}

#[tokio::test]
async fn shown_loss_and_saved_length_under_drop_and_reorder() {
    let demo = sipdeck::server::demo::start(lossy_demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::connect(&demo.url(), dir.path());
    c.until("connected", WAIT, |a| a.connected()).await;
    c.key('1').await;
    c.until("call answered", WAIT, |a| matches!(a.call, CallState::Active { .. })).await;
    c.until("300 packets", WAIT, |a| a.rtp.packets >= 300).await;
    c.key('3').await;
    c.until("call ended", WAIT, |a| a.log.iter().any(|l| l.text == "Call ended")).await;
    // The held packet may still be on its way: wait until only the dropped ones are missing.
    c.until("the late packets", WAIT, |a| {
        let s = a.streams.iter().next().unwrap();
        s.lost() == s.expected() / DROP_EVERY
    })
    .await;

    let s = only_stream(&c);
    let expected = s.expected();
    let lost = expected / DROP_EVERY;
    assert!(expected >= 300);
    assert_eq!(s.lost(), lost);
    assert_eq!(s.packets, expected - lost);
    assert_eq!((s.duplicates, s.unsequenced), (0, 0));
    assert_eq!(s.out_of_order, late_among(expected));
    assert_eq!(s.codec().name(), "PCMU");
    let pct = lost as f64 * 100.0 / expected as f64;
    assert!((s.lost_percent() - pct).abs() < 1e-9);

    // Shown: in the stream table...
    let mut term = Terminal::new(TestBackend::new(100, 12)).unwrap();
    term.draw(|f| render_streams(f, f.area(), &c.app.streams, Instant::now(), &Theme::PLAIN)).unwrap();
    let screen = format!("{}", term.backend());
    let cell = format!("{lost} {pct:.1}%");
    assert!(screen.contains(&cell), "{cell} not in\n{screen}");
    // ...and in the short per-stream line that key 4 writes to the log.
    c.key('4').await;
    let line = format!("{}/{expected} pkts, {lost} lost {pct:.1}%", expected - lost);
    assert!(c.logged(&line), "{line} not in\n{}", c.log_text());

    // The recording is as long as the call: every lost packet became 20 ms of silence.
    assert_eq!(c.app.capture.len() as u64, expected * 160);
    assert_eq!(c.app.capture.too_late_packets(), 0);
    c.key('7').await;
    c.until("saved", WAIT, |a| a.last_save.is_some()).await;
    let mulaw_path = c.app.last_save.clone().unwrap();
    let bytes = std::fs::read(&mulaw_path).unwrap();
    let info = wav::parse_header(&bytes).unwrap();
    assert_eq!(info.data_len as u64, expected * 160);
    assert_eq!(bytes.len() as u64, 58 + expected * 160 + (expected * 160) % 2);
    // The demo's tone never encodes to 0xff; the silence of a lost packet is all 0xff.
    let data = info.data(&bytes);
    let silent_blocks = data.chunks(160).filter(|b| b.iter().all(|&x| x == 0xff)).count() as u64;
    assert_eq!(silent_blocks, lost);

    // The same recording as 16-bit PCM, through hound.
    c.app.cfg.record_format = RecordFormat::Pcm16;
    c.app.last_save = None;
    c.key('7').await;
    c.until("saved as PCM", WAIT, |a| a.last_save.is_some()).await;
    let pcm_path = c.app.last_save.clone().unwrap();
    assert_ne!(pcm_path, mulaw_path);
    let reader = hound::WavReader::open(&pcm_path).unwrap();
    assert_eq!(reader.spec().bits_per_sample, 16);
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.len() as u64, expected * 160);
}
