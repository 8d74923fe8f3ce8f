//! baresip as an auto-answering far end (Debian package `baresip-core`, installed by
//! scripts/setup.sh): it sends a 440 Hz sine (`ausine`) and records what it decodes (`sndfile`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use super::free_udp_port;
use tokio::process::{Child, Command};

/// baresip as the far end, killed when dropped.
pub struct Baresip {
    _child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// Panics when baresip is not installed (scripts/setup.sh installs it).
    pub async fn start(codecs: &str) -> Option<Baresip> {
        if std::process::Command::new("baresip").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            // Like sipp and tshark: a missing peer is a failed set-up, never a silent pass.
            panic!("baresip is not installed: run scripts/setup.sh (Debian package baresip-core)");
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
        // Its console output is kept: it says which DTMF digits it received.
        let console = std::fs::File::create(dir.path().join("console.log")).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(console)
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

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What baresip printed so far.
    pub fn console(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("console.log")).unwrap_or_default()
    }

    /// The digits baresip reported as received telephone-events, in order: each once, when
    /// its end packet came (`received event: '5' (end=1)`; later versions print
    /// `call: received DTMF: '5' ...`).
    pub fn received_dtmf(&self) -> String {
        let digit = |l: &str| {
            let ended = l.split("received event: '").nth(1).filter(|rest| rest.ends_with("(end=1)"));
            ended.or_else(|| l.split("received DTMF: '").nth(1))?.chars().next()
        };
        self.console().lines().filter_map(digit).collect()
    }

    /// sndfile's file of the audio baresip decoded (what the gateway sent it).
    pub fn recording(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
    }
}
