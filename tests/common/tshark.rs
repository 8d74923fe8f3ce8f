//! Wireshark's RTP analysis of a pcap: `tshark -q -z rtp,streams`, read into rows.

use std::path::Path;
use std::process::Command;

/// One stream row of `tshark -q -z rtp,streams`: (SSRC, packets, lost).
pub fn rows(report: &str) -> Vec<(u32, u64, i64)> {
    let mut out = Vec::new();
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(ssrc) = words.iter().find_map(|w| w.strip_prefix("0x").and_then(|h| u32::from_str_radix(h, 16).ok())) else {
            continue;
        };
        // "... <payload name> <Pkts> <Lost> (<pct>%) ...": the loss is the word before the
        // parenthesised percentage, the packets the word before that.
        let Some(pct) = words.iter().position(|w| w.starts_with('(') && w.ends_with("%)")) else { continue };
        let lost: i64 = words[pct - 1].parse().unwrap_or_else(|_| panic!("lost in {line:?}"));
        let packets: u64 = words[pct - 2].parse().unwrap_or_else(|_| panic!("packets in {line:?}"));
        out.push((ssrc, packets, lost));
    }
    out
}

/// tshark's stream rows of the pcap at `path` (sipdeck's frames use UDP port 5004), sorted,
/// with the whole report for messages. Panics when tshark is missing or fails.
pub fn rtp_streams(path: &Path) -> (Vec<(u32, u64, i64)>, String) {
    let Ok(version) = Command::new("tshark").arg("--version").output() else {
        panic!("tshark is not installed: run scripts/setup.sh (Debian package tshark)");
    };
    assert!(version.status.success());
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-d", "udp.port==5004,rtp", "-q", "-z", "rtp,streams"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "tshark failed: {}\n{report}", String::from_utf8_lossy(&out.stderr));
    let mut rows = rows(&report);
    rows.sort();
    (rows, report)
}
