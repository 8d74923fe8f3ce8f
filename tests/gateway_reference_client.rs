//! The reference Python client, run unchanged against the gateway with sipp behind it.
//! Its menu is driven on stdin; what it prints (in Chinese) is what the test reads.

mod gateway_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use gateway_support::{Gateway, Sipp, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::mpsc;

/// The client's stdout, line by line, with a memory of everything seen.
struct Output {
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Output {
    async fn wait_for(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Ok(None) => panic!("client exited before printing {needle:?}; it printed:\n{}", self.seen.join("\n")),
                Err(_) => panic!("client never printed {needle:?}; it printed:\n{}", self.seen.join("\n")),
            }
        }
    }
}

async fn say(stdin: &mut ChildStdin, text: &str) {
    stdin.write_all(text.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_client_calls_counts_rtp_and_uploads() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/ws_audio_client.py");
    assert!(script.exists(), "reference client missing at {}", script.display());
    let sipp = Sipp::start("answer_stream_wait_bye.xml", &[]);
    let gw = Gateway::start(sipp.addr, |_| {}).await;
    let wav_dir = tempfile::tempdir().unwrap();
    let wav_path = wav_dir.path().join("greeting.wav");
    let wav = sipdeck::core::wav::g711_wav(sipdeck::core::wav::Law::MuLaw, &gateway_support::tone_ulaw(1.0));
    std::fs::write(&wav_path, &wav).unwrap();

    // -u: unbuffered stdout, so lines arrive as the client prints them.
    let mut child = Command::new("python3")
        .arg("-u")
        .arg(&script)
        .args(["-s", "127.0.0.1", "-p", &gw.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    let mut out = Output { lines: rx, seen: Vec::new() };

    out.wait_for("WebSocket 客戶端連接建立").await;
    say(&mut stdin, "1\n").await; // call the default number
    out.wait_for("收到服務器消息: Calling 0938220136").await;
    out.wait_for("收到服務器消息: Call answered").await;
    out.wait_for("收到 RTP 封包 #5，原始大小: 172 字節").await;

    say(&mut stdin, "4\n").await; // statistics
    let stats = out.wait_for("統計信息：已接收").await;
    let count: u32 = stats
        .split("已接收 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stats:?}"));
    assert!(count >= 5, "{stats}");

    say(&mut stdin, &format!("5\n{}\n", wav_path.display())).await; // upload
    let ack = out.wait_for("收到 WAV 上傳確認").await;
    assert!(ack.ends_with(&format!("收到 WAV 上傳確認: greeting.wav ({} bytes)", wav.len())), "{ack}");
    assert_eq!(std::fs::read(gw.store.path().join("greeting.wav")).unwrap(), wav);

    say(&mut stdin, "8\n").await; // quit: the gateway must hang the call up
    out.wait_for("總計接收了").await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("client exits").unwrap();
    assert!(status.success());
    assert!(sipp.finish().await.success(), "sipp got no BYE after the client left");
    gw.stop().await;
}
