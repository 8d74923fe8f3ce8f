//! The gateway against baresip, a SIP user agent nobody here wrote (Debian package
//! `baresip-core`, installed by scripts/setup.sh): baresip auto-answers, sends a 440 Hz
//! sine (its `ausine` module) and records what it decodes (`sndfile`).

mod gateway_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use gateway_support::{free_udp_port, Client, Gateway};
use sipdeck::core::rtp;
use sipdeck::core::wav::{self, Law};
use tokio::process::{Child, Command};

/// baresip as the far end, killed when dropped.
struct Baresip {
    _child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// `None` (with a message) only when baresip is not installed at all.
    async fn start(codecs: &str) -> Option<Baresip> {
        if std::process::Command::new("baresip").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            eprintln!("SKIPPED: baresip is not installed (scripts/setup.sh installs baresip-core)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port(false);
        let rtp = free_udp_port(false) & !1;
        // ausine makes 48 kHz stereo (baresip resamples it for G.711); sndfile writes what
        // is decoded from the gateway; aubridge is a player that plays nowhere, which the
        // receive pipeline needs to run at all.
        let config = format!(
            "poll_method epoll\nsip_listen 127.0.0.1:{port}\n\
             audio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n\
             audio_player aubridge,nil\naudio_alert aufile,/dev/null\nsnd_path {}\n\
             rtp_ports {rtp}-{}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aufile.so\n\
             module sndfile.so\nmodule aubridge.so\nmodule_app account.so\nmodule_app menu.so\n",
            dir.path().display(),
            rtp + 20,
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        std::fs::write(dir.path().join("accounts"), format!("<sip:1000@127.0.0.1>;regint=0;answermode=auto;audio_codecs={codecs}\n")).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run baresip");
        // It is ready once its SIP port is taken.
        for _ in 0..100 {
            if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
                return Some(Baresip { _child: child, port, dir });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("baresip did not start");
    }

    fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// sndfile's file of the audio baresip decoded (what the gateway sent it).
    fn recording(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
    }
}

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
