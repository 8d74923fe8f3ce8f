//! The converter against sox: the 44.1 kHz stereo asset converted by both must come out the
//! same length (within one 20 ms packet) and sound the same (the difference far below the
//! signal). Needs `sox` on the PATH (Debian: `apt-get install sox`).

use std::path::{Path, PathBuf};
use std::process::Command;

use sipdeck::core::audio::ulaw_to_linear;
use sipdeck::core::convert::Length;
use sipdeck::core::wav::{parse_header, Encoding, Verdict};

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(name)
}

/// The samples of an 8 kHz mono mu-law WAV, as floats.
fn linear(file: &[u8]) -> Vec<f64> {
    let info = parse_header(file).expect("a readable header");
    assert_eq!((info.encoding, info.sample_rate, info.channels), (Encoding::MuLaw, 8000, 1));
    info.data(file).iter().map(|&b| ulaw_to_linear(b) as f64).collect()
}

fn rms(x: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = x.fold((0.0, 0usize), |(s, n), v| (s + v * v, n + 1));
    (sum / n.max(1) as f64).sqrt()
}

/// RMS of `a - b` with `b` shifted by `lag` samples, over the part both cover.
fn diff_rms(a: &[f64], b: &[f64], lag: isize) -> f64 {
    let pairs = (0..a.len() as isize).filter_map(|i| {
        let j = i + lag;
        (j >= 0 && (j as usize) < b.len()).then(|| a[i as usize] - b[j as usize])
    });
    rms(pairs)
}

fn sox_convert(input: &Path, output: &Path) {
    let status = Command::new("sox")
        .arg(input)
        .args(["-r", "8000", "-c", "1", "-e", "mu-law"])
        .arg(output)
        .status()
        .expect("sox must be installed for this test (Debian: apt-get install sox)");
    assert!(status.success(), "sox failed: {status}");
}

#[test]
fn matches_sox_on_the_44k_stereo_asset() {
    let input = asset("chord-44k-stereo.wav");
    let original = std::fs::read(&input).unwrap();
    assert!(matches!(Verdict::of(&parse_header(&original), original.len() as u64), Verdict::Convert(_)));

    let dir = tempfile::tempdir().unwrap();
    let sox_out = dir.path().join("sox.wav");
    sox_convert(&input, &sox_out);
    let theirs = linear(&std::fs::read(&sox_out).unwrap());

    let ours_file = sipdeck::client::files::convert_file(&input, Length::Whole).unwrap();
    let ours = linear(&ours_file.wav);
    assert_eq!(Verdict::of(&parse_header(&ours_file.wav), ours_file.wav.len() as u64), Verdict::Ready);

    assert!(ours.len().abs_diff(theirs.len()) <= 160, "lengths {} (ours) and {} (sox)", ours.len(), theirs.len());

    // Both resamplers compensate their filter delay; allow a few samples either way.
    let (lag, diff) = (-8..=8isize)
        .map(|lag| (lag, diff_rms(&ours, &theirs, lag)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let signal = rms(theirs.iter().copied());
    let db = 20.0 * (diff / signal).log10();
    eprintln!(
        "ours {} samples, sox {} samples, best lag {lag}, signal rms {signal:.0}, difference rms {diff:.0} ({db:.1} dB)",
        ours.len(),
        theirs.len()
    );
    assert!(lag.abs() <= 2, "the outputs are {lag} samples apart");
    assert!(db < -20.0, "the difference is only {db:.1} dB below the signal");
}
