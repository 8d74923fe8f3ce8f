//! The reference Python client, unchanged, against sipdeck's demo peer: proof that the
//! server side of sipdeck speaks the protocol the way real clients expect.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn seed_client() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/ws_audio_client.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_client_calls_counts_uploads_and_gets_the_ack() {
    let script = seed_client();
    assert!(script.exists(), "the reference client is expected at {}", script.display());
    let demo = sipdeck::server::demo::start(Default::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("hello.wav");
    std::fs::write(&wav, sipdeck::core::wav::g711_wav(sipdeck::core::wav::Law::MuLaw, &[0x80; 4000])).unwrap();
    let port = demo.addr.port().to_string();
    let wav_s = wav.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["-s", "127.0.0.1", "-p", &port])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 must be installed");
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            // The menu prompt has no newline; read raw chunks and split on what we need.
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut seen = String::new();
        let wait_for = |needle: &str, seen: &mut String| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !seen.contains(needle) {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(l) => seen.push_str(&l),
                    Err(_) => panic!("reference client never printed {needle:?}; output:\n{seen}"),
                }
            }
        };
        wait_for("WebSocket 客戶端連接建立", &mut seen); // connected
        writeln!(stdin, "1").unwrap();
        wait_for("收到 RTP 封包 #5", &mut seen); // RTP packet #5 received
        writeln!(stdin, "4").unwrap();
        wait_for("統計信息", &mut seen); // statistics
        writeln!(stdin, "5").unwrap();
        writeln!(stdin, "{wav_s}").unwrap();
        wait_for("收到 WAV 上傳確認: hello.wav (4058 bytes)", &mut seen); // upload acknowledged
        writeln!(stdin, "3").unwrap();
        wait_for("Call ended", &mut seen);
        writeln!(stdin, "8").unwrap();
        let status = child.wait().unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (status, seen, err)
    })
    .await
    .unwrap();
    let (status, seen, err) = out;
    assert!(status.success(), "reference client failed: {err}\n{seen}");
    assert!(seen.contains("收到服務器消息: Calling 0938220136"), "{seen}");
    assert!(seen.contains("收到服務器消息: Call answered"), "{seen}");
    // Its own RTP counter: it parsed our frames as hex.
    assert!(!seen.contains("解析 RTP 數據失敗"), "the reference client failed to parse RTP:\n{seen}");
}
