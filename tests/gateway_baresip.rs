//! The gateway against baresip, a SIP user agent nobody here wrote (Debian package
//! `baresip-core`, installed by scripts/setup.sh): baresip auto-answers, sends a 440 Hz
//! sine (its `ausine` module) and records what it decodes (`sndfile`).

mod gateway_support;

use std::path::PathBuf;
use std::time::Duration;

use gateway_support::baresip::Baresip;
use gateway_support::{Client, Gateway};
use sipdeck::core::rtp;
use sipdeck::core::wav::{self, Law};

fn recorded_bytes(path: Option<PathBuf>) -> usize {
    let bytes = path.map(|p| std::fs::read(p).unwrap_or_default()).unwrap_or_default();
    wav::parse_header(&bytes).map(|i| i.data_len).unwrap_or(0)
}

async fn call_and_play(codecs: &str, want_pt: u8) {
    let Some(far) = Baresip::start(codecs).await else { return };
    let gw = Gateway::start(far.addr(), |_| {}).await;
    let mut c = Client::connect(&gw.url()).await;
    let tone = gateway_support::tone_ulaw(1.0);
    c.send(&sipdeck::core::protocol::ClientMsg::WavUpload { name: "tone.wav".parse().unwrap(), data: wav::g711_wav(Law::MuLaw, &tone) }.encode()).await;
    c.line("WAV_ACK").await;
    c.send("CALL:1000").await;
    c.line("Call answered").await;
    // baresip's sine, 20 ms packets in the negotiated law.
    c.rtp_frames(50).await;
    for pkt in &c.rtp {
        let p = rtp::parse(pkt).unwrap();
        assert_eq!(p.header.payload_type, want_pt);
    }
    c.send("PLAY_WAV:tone.wav").await;
    c.line("Finished playing tone.wav").await;
    c.send("HANGUP").await;
    c.line("Call ended").await;
    // baresip decoded what it heard: most of the second of tone we played (16-bit PCM).
    let mut bytes = 0;
    for _ in 0..50 {
        bytes = recorded_bytes(far.recording());
        if bytes >= 8000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(bytes >= 8000, "baresip decoded only {bytes} bytes of audio");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_answers_sends_pcmu_and_hears_the_playback() {
    call_and_play("PCMU", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alaw_only_baresip_gets_alaw() {
    call_and_play("PCMA", 8).await;
}
