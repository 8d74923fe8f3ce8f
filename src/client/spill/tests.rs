//! Spill files: the format read back (version 2 with times, version 1 leftovers, torn
//! tails), the writer's hand-over, replays equal to the in-memory capture, recovery.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::format::{self, Reader, Version};
use super::replay::{for_each_packet, save_pcap, save_wav, Source};
use super::*;
use crate::client::app::RecordFormat;
use crate::core::capture::Capture;
use crate::core::rtp::{build, RtpHeader};
use crate::core::stats::StreamSet;

fn pkt(ssrc: u32, seq: u16, ts: u32, marker: bool, byte: u8) -> Vec<u8> {
    build(&RtpHeader { payload_type: 0, sequence: seq, timestamp: ts, ssrc, marker }, &[byte; 160])
}

fn plain(seq: u16) -> Vec<u8> {
    pkt(9, seq, seq as u32 * 160, false, seq as u8)
}

fn file(path: &std::path::Path) -> Source {
    Source::File { path: path.to_path_buf(), upto: u64::MAX, progress: None, tail: None }
}

/// A call as the wire brings it: 20 packets, a one-second pause (silence suppression:
/// marker set, timestamp jump), 10 more, then another SSRC two seconds after the last, a
/// late packet and a lost one on the way.
fn scenario(t0: Instant) -> Vec<(Instant, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = t0;
    for s in 0..20u16 {
        at += Duration::from_millis(20);
        out.push((at, pkt(1, s, s as u32 * 160, false, 10 + s as u8)));
    }
    at += Duration::from_secs(1);
    for s in 20..30u16 {
        at += Duration::from_millis(20);
        if s == 25 {
            continue; // lost
        }
        out.push((at, pkt(1, s, s as u32 * 160 + 8000, s == 20, 10 + s as u8)));
    }
    out.swap(22, 23); // one packet late
    at += Duration::from_secs(2);
    for s in 0..15u16 {
        at += Duration::from_millis(20);
        out.push((at, pkt(2, 900 + s, 4000 + s as u32 * 160, false, 100 + s as u8)));
    }
    out
}

/// The old in-memory path: packets straight into a `Capture<Vec<u8>>`.
fn in_memory(packets: &[(Instant, Vec<u8>)]) -> Capture {
    let (mut set, mut cap) = (StreamSet::default(), Capture::default());
    for (at, bytes) in packets {
        let p = crate::core::rtp::parse(bytes).unwrap();
        let a = set.on_packet(&p.header, p.payload, bytes.len(), *at);
        cap.push(&a, &p.header, p.payload);
    }
    cap
}

fn spill(dir: &std::path::Path, packets: &[(Instant, Vec<u8>)]) -> PathBuf {
    let mut w = SpillWriter::create(dir, 1, packets[0].0).unwrap();
    for (at, bytes) in packets {
        w.push(bytes, *at);
    }
    w.close().unwrap().0
}

#[test]
fn version_2_round_trips_packets_and_times_and_a_torn_tail_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let packets: Vec<_> = (0..50u16).map(|s| (t0 + Duration::from_micros(20_013 * s as u64), plain(s))).collect();
    let path = spill(dir.path(), &packets);
    assert_eq!(path.file_name().unwrap().to_string_lossy(), file_name(std::process::id(), 1));
    // Tear the last record as a crash mid-write would.
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&[0, 172, 0, 0, 0]).unwrap();
    let mut r = Reader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert!(matches!(r.version(), Version::V2 { .. }));
    let mut n = 0u16;
    while let Some(rec) = r.next_record().unwrap() {
        assert_eq!(rec.micros, Some(20_013 * n as u64));
        assert_eq!(rec.packet, &plain(n)[..]);
        n += 1;
    }
    assert_eq!(n, 50);
}

#[test]
fn version_1_leftovers_still_read() {
    let mut v1 = format::MAGIC_V1.to_vec();
    for s in 0..3u16 {
        v1.extend_from_slice(&172u16.to_be_bytes());
        v1.extend_from_slice(&plain(s));
    }
    v1.extend_from_slice(&[0, 172, 0x80]); // torn
    let src = Source::Memory(std::sync::Arc::new(v1));
    let mut seen = vec![];
    let (n, start) = for_each_packet(&src, |at, p| seen.push((at, p.to_vec()))).unwrap();
    assert_eq!((n, start), (3, None));
    assert_eq!(seen[2], (Duration::from_millis(40), plain(2)));
    assert!(Reader::new(&b"RIFF0000"[..]).is_err(), "not a spill file");
}

#[test]
fn a_replay_writes_the_same_wav_bytes_as_the_in_memory_capture() {
    let dir = tempfile::tempdir().unwrap();
    let packets = scenario(Instant::now());
    let path = spill(dir.path(), &packets);
    let live = in_memory(&packets);
    // 20 packets, a second of suppressed silence, 10 places (one lost): 12,800 samples, the
    // last packet at 12,640; the next SSRC 2.02 s after it: 12,640 + 16,160, 15 packets.
    assert_eq!(live.len(), 12_640 + 16_160 + 15 * 160);
    for (format, want) in [(RecordFormat::Mulaw, live.to_wav()), (RecordFormat::Pcm16, live.to_pcm16_wav())] {
        let out = dir.path().join(format!("{format:?}.wav"));
        let saved = save_wav(&[file(&path)], &out, format).unwrap();
        let got = std::fs::read(&out).unwrap();
        assert_eq!(got.len(), want.len(), "{format:?}");
        assert!(got == want, "{format:?}: the replay differs from the live capture");
        assert_eq!(saved.bytes, want.len() as u64);
        assert!((saved.seconds - live.seconds()).abs() < 1e-9);
    }
    // Two calls into one file, back to back.
    let out = dir.path().join("both.wav");
    save_wav(&[file(&path), file(&path)], &out, RecordFormat::Mulaw).unwrap();
    let info = crate::core::wav::parse_header(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(info.data_len as usize, 2 * live.len());
}

#[test]
fn a_live_save_reads_only_what_was_written_when_it_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut w = SpillWriter::create(dir.path(), 7, t0).unwrap();
    for s in 0..100u16 {
        w.push(&plain(s), t0 + Duration::from_millis(20 * s as u64));
    }
    let (upto, progress) = w.mark();
    // More arrives after the save was asked for: not in this save.
    for s in 100..150u16 {
        w.push(&plain(s), t0 + Duration::from_millis(20 * s as u64));
    }
    w.flush();
    let src = Source::File { path: w.path().to_path_buf(), upto, progress: Some(progress), tail: None };
    let out = dir.path().join("live.wav");
    let saved = save_wav(&[src], &out, RecordFormat::Mulaw).unwrap();
    assert!((saved.seconds - 2.0).abs() < 1e-9, "{}", saved.seconds);
    w.close();
}

#[test]
fn many_chunks_through_reused_buffers_arrive_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut w = SpillWriter::create(dir.path(), 2, t0).unwrap();
    // About 27 chunks: buffers go round the pool many times, with a flush (a partial chunk,
    // as a tick hands over) now and then.
    let n = 40_000u32;
    for i in 0..n {
        w.push(&plain(i as u16), t0 + Duration::from_millis(i as u64));
        if i % 7_919 == 0 {
            assert_eq!(w.flush(), None);
        }
    }
    let (kept, len) = w.close().unwrap();
    let data = std::fs::read(&kept).unwrap();
    assert_eq!(data.len() as u64, len);
    assert_eq!(data.len(), format::HEADER_V2 + n as usize * (format::RECORD_HEAD_V2 + 172));
    let mut i = 0u32;
    for_each_packet(&file(&kept), |at, p| {
        assert_eq!((at, p), (Duration::from_millis(i as u64), &plain(i as u16)[..]), "record {i}");
        i += 1;
    })
    .unwrap();
    assert_eq!(i, n);
}

#[test]
fn spilled_calls_of_a_dead_process_come_back_as_wavs_and_live_ones_are_not_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut w = SpillWriter::create(dir.path(), 3, t0).unwrap();
    for s in 0..100u16 {
        w.push(&plain(s), t0 + Duration::from_millis(20 * s as u64));
    }
    w.flush();
    assert!(leftovers(dir.path()).is_empty(), "our own spill is not a leftover");
    let (kept, _) = w.close().unwrap();
    let dead = dir.path().join(file_name(999_999_999, 3));
    std::fs::rename(&kept, &dead).unwrap();
    let old = dir.path().join(".sipdeck-spill-999999998.rtp");
    let mut v1 = format::MAGIC_V1.to_vec();
    for s in 0..50u16 {
        v1.extend_from_slice(&172u16.to_be_bytes());
        v1.extend_from_slice(&plain(s));
    }
    std::fs::write(&old, v1).unwrap();
    let found: Vec<PathBuf> = leftovers(dir.path()).into_iter().map(|l| l.path).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    let (wav, secs) = recover(&dead, dir.path()).unwrap();
    assert!((secs - 2.0).abs() < 1e-9);
    assert_eq!(crate::core::wav::parse_header(&std::fs::read(&wav).unwrap()).unwrap().data_len, 16000);
    let (_, secs) = recover(&old, dir.path()).unwrap();
    assert!((secs - 1.0).abs() < 1e-9);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_call_without_packets_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let w = SpillWriter::create(dir.path(), 4, Instant::now()).unwrap();
    assert_eq!(w.close(), None);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_full_disk_is_reported_once_and_the_file_takes_no_more() {
    // /dev/full fails every write with ENOSPC, as a full disk does.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let t0 = Instant::now();
    let mut w = SpillWriter::start(PathBuf::from("/dev/full"), full, t0, 0).unwrap();
    w.push(&plain(1), t0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let err = loop {
        if let Some(e) = w.flush() {
            break e;
        }
        assert!(Instant::now() < deadline, "the write error never surfaced");
        std::thread::yield_now();
    };
    assert!(err.contains("No space left"), "{err}");
    assert_eq!(w.flush(), None, "reported once");
    assert!(w.failed());
    // The save of such a file waits for nothing: the writer stopped.
    let (upto, progress) = w.mark();
    assert_eq!(progress.wait_for(upto), 0);
}

#[test]
fn a_pcap_carries_every_packet_at_its_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let packets = scenario(Instant::now());
    let path = spill(dir.path(), &packets);
    let out = dir.path().join("call.pcap");
    let saved = save_pcap(&[file(&path)], &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(saved.bytes, bytes.len() as u64);
    let mut reader = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
    let mut times = vec![];
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        times.push(p.timestamp);
    }
    assert_eq!(times.len(), packets.len());
    let first = times[0];
    for (t, (at, _)) in times.iter().zip(&packets) {
        let want = at.duration_since(packets[0].0);
        let got = *t - first;
        assert!(got.abs_diff(want) <= Duration::from_micros(1), "{got:?} vs {want:?}");
    }
}
