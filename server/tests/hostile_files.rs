//! Hostile model files and output paths, through the real `ember` binary: archive bombs, model
//! directories holding FIFOs, devices and symlinks out of the directory, and `--output` paths
//! that are FIFOs, devices, symlinks, directories or in missing directories, and SIGINT/SIGTERM
//! in the middle of a run. Every child process runs under a deadline.

#![cfg(unix)]

mod support;

use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::*;

/// `ember score --model <the car example> --input <its input> --output <output> --quiet
/// <extra>`.
fn score_to(output: &str, extra: &[&str]) -> (ExitStatus, String, String) {
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    ember_score(&car_model(), &[&car_input()], output, &args).parts()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Files whose name holds `ember-partial` in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("ember-partial"))
        .collect()
}

/// A copy of the car-evaluation model and the path of its root metadata file.
fn model_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let model = dir.join("model");
    copy_dir(&car_model(), &model);
    let meta = metadata_part(&model.join("metadata"));
    (model, meta)
}

fn inspect(model: &Path) -> (ExitStatus, String, String, Duration) {
    let started = Instant::now();
    let (status, out, err) = finish(
        spawn_ember(&["inspect", "--model", model.to_str().unwrap()]),
        Duration::from_secs(30),
    )
    .parts();
    (status, out, err, started.elapsed())
}

// ----------------------------------------------------------------------------------------
// model directories

#[test]
fn spark_metadata_symlinked_to_dev_zero_is_refused_naming_the_file() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (model, meta) = model_copy(tmp.path());
    std::fs::remove_file(&meta).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &meta).unwrap();
    let (status, _, err, took) = inspect(&model);
    assert!(!status.success(), "{err}");
    let name = meta.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name), "the file is named: {err}");
    assert!(err.contains("outside the model directory"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn spark_metadata_fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, meta) = model_copy(tmp.path());
    std::fs::remove_file(&meta).unwrap();
    mkfifo(&meta);
    // no writer ever opens the FIFO: opening it to read would block forever
    let (status, _, err, took) = inspect(&model);
    assert!(!status.success(), "{err}");
    let name = meta.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name) && err.contains("is a FIFO"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        std::fs::symlink_metadata(&meta)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn spark_data_fifo_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = model_copy(tmp.path());
    let data = std::fs::read_dir(model.join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("LogisticRegression"))
        .unwrap()
        .join("data");
    let parquet = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    std::fs::remove_file(&parquet).unwrap();
    mkfifo(&parquet);
    let (status, _, err, took) = inspect(&model);
    assert!(!status.success(), "{err}");
    let name = parquet.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name) && err.contains("is a FIFO"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn spark_symlinks_are_followed_only_inside_the_model_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, meta) = model_copy(tmp.path());
    // a link to a file outside the model directory (a perfectly good metadata file)
    let outside = tmp.path().join("elsewhere.json");
    std::fs::rename(&meta, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &meta).unwrap();
    let (status, _, err, _) = inspect(&model);
    assert!(!status.success(), "{err}");
    let name = meta.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name), "{err}");
    assert!(err.contains("outside the model directory"), "{err}");
    // the same file moved inside the model directory, linked with a relative link, loads
    std::fs::remove_file(&meta).unwrap();
    std::fs::rename(&outside, model.join("metadata").join("real.json")).unwrap();
    std::os::unix::fs::symlink("real.json", &meta).unwrap();
    let (status, out, err, _) = inspect(&model);
    assert!(status.success(), "{err}");
    assert!(out.contains("LogisticRegression"), "{out}");
}

#[test]
fn spark_model_with_a_symlinked_stage_directory_out_of_the_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = model_copy(tmp.path());
    let stage = std::fs::read_dir(model.join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("VectorAssembler"))
        .unwrap();
    let moved = tmp.path().join("moved-stage");
    std::fs::rename(&stage, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &stage).unwrap();
    let (status, _, err, _) = inspect(&model);
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("VectorAssembler") && err.contains("outside the model directory"),
        "{err}"
    );
}

// ----------------------------------------------------------------------------------------
// archive bombs

/// Peak resident memory of `pid` (`VmHWM`, kB), if it is still running.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Writes `model.tar.gz` holding one `entry_mib` MiB entry of zeros, valid gzip and tar,
/// without compressing (or holding) the zeros: a self-contained deflate chunk of 1 MiB of
/// zeros is repeated, and the CRC is combined.
fn write_tar_gz_bomb(path: &Path, entry_mib: u64) {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    fn chunk(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() / 8 + 1024);
        while (c.total_in() as usize) < data.len() || out.is_empty() {
            out.reserve(64 << 10);
            let at = c.total_in() as usize;
            c.compress_vec(&data[at..], &mut out, FlushCompress::Full)
                .unwrap();
        }
        out
    }
    let mut header = tar::Header::new_gnu();
    header.set_path("root/bomb.bin").unwrap();
    header.set_size(entry_mib << 20);
    header.set_mode(0o644);
    header.set_cksum();
    let zeros = vec![0u8; 1 << 20];
    let end = vec![0u8; 1024];
    let mut crc = Crc::new();
    crc.update(header.as_bytes());
    let mut zeros_crc = Crc::new();
    zeros_crc.update(&zeros);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
        .unwrap();
    f.write_all(&chunk(header.as_bytes())).unwrap();
    let zchunk = chunk(&zeros);
    for _ in 0..entry_mib {
        f.write_all(&zchunk).unwrap();
        crc.combine(&zeros_crc);
    }
    f.write_all(&chunk(&end)).unwrap();
    crc.update(&end);
    // a final, empty fixed-Huffman block
    f.write_all(&[0x03, 0x00]).unwrap();
    f.write_all(&crc.sum().to_le_bytes()).unwrap();
    f.write_all(&crc.amount().to_le_bytes()).unwrap();
    f.flush().unwrap();
}

#[test]
fn the_bomb_builder_writes_a_valid_tar_gz() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("small.tar.gz");
    write_tar_gz_bomb(&p, 3);
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap());
    let mut archive = tar::Archive::new(gz);
    let mut n = 0;
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        assert_eq!(e.path().unwrap(), Path::new("root/bomb.bin"));
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len(), 3 << 20);
        assert!(bytes.iter().all(|b| *b == 0));
        n += 1;
    }
    assert_eq!(n, 1);
    // the rest of the stream (end blocks, CRC and size) checks out
    let mut rest = Vec::new();
    archive.into_inner().read_to_end(&mut rest).unwrap();
}

#[test]
fn a_tar_gz_bomb_is_refused_at_once_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("model.tar.gz");
    // 3 GiB of zeros in a ~3 MB file, against the default 2 GiB --max-bundle-mb
    write_tar_gz_bomb(&bomb, 3 << 10);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 16 << 20);
    let started = Instant::now();
    let mut child = spawn_ember(&["inspect", "--model", bomb.to_str().unwrap()]);
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
        peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (status, _, err) = finish(child, Duration::from_secs(5)).parts();
    let took = started.elapsed();
    assert!(!status.success(), "{err}");
    assert!(err.contains("root/bomb.bin"), "the entry is named: {err}");
    assert!(
        err.contains("limit of 2048 MiB") && err.contains("--max-bundle-mb"),
        "the limit and its flag are named: {err}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(peak < 1 << 20, "peak RSS {peak} kB");
}

// ----------------------------------------------------------------------------------------
// --output

#[test]
fn output_fifo_is_streamed_into_and_stays_a_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("scored.fifo");
    mkfifo(&fifo);
    let (tx, rx) = mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        let r = std::fs::File::open(&reader_path).and_then(|mut f| f.read_to_string(&mut s));
        let _ = tx.send(r.map(|_| s));
    });
    let (status, _, err) = score_to(fifo.to_str().unwrap(), &["--output-format", "csv"]);
    assert!(status.success(), "{err}");
    let got = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the reader got the output")
        .unwrap();
    assert!(
        got.starts_with(CAR_HEADER),
        "{}",
        &got[..got.len().min(200)]
    );
    assert_eq!(got.lines().count(), 201, "header and 200 rows");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(partials(tmp.path()).is_empty());
}

#[test]
fn output_dev_null_stays_a_character_device() {
    let null = Path::new("/dev/null");
    if !std::fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
        return;
    }
    let (status, _, err) = score_to("/dev/null", &["--output-format", "csv"]);
    assert!(status.success(), "{err}");
    assert!(
        std::fs::symlink_metadata(null)
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(partials(Path::new("/dev")).is_empty());
}

#[test]
fn output_dash_is_standard_output() {
    let (status, out, err) = score_to("-", &["--output-format", "jsonl"]);
    assert!(status.success(), "{err}");
    assert_eq!(out.lines().count(), 200, "{}", &out[..out.len().min(200)]);
    assert!(
        out.starts_with("{\"buying\":"),
        "{}",
        &out[..out.len().min(200)]
    );
}

#[test]
fn output_symlink_is_kept_and_its_target_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.csv");
    std::fs::write(&real, "old contents\n").unwrap();
    let link = tmp.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let (status, _, err) = score_to(link.to_str().unwrap(), &[]);
    assert!(status.success(), "{err}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("real.csv"));
    let scored = std::fs::read_to_string(&real).unwrap();
    assert!(scored.starts_with(CAR_HEADER), "{scored}");
    assert_eq!(scored.lines().count(), 201);
    // a dangling link: its target is created, the link kept
    let dangling = tmp.path().join("dangling.csv");
    std::os::unix::fs::symlink("made.csv", &dangling).unwrap();
    let (status, _, err) = score_to(dangling.to_str().unwrap(), &[]);
    assert!(status.success(), "{err}");
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let made = std::fs::read_to_string(tmp.path().join("made.csv")).unwrap();
    assert!(made.starts_with(CAR_HEADER));
    assert!(partials(tmp.path()).is_empty());
}

#[test]
fn output_directory_is_an_error_naming_it_and_leaves_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out.csv");
    std::fs::create_dir(&dir).unwrap();
    let (status, _, err) = score_to(dir.to_str().unwrap(), &[]);
    assert!(!status.success());
    assert!(
        err.contains(dir.to_str().unwrap()) && err.contains("is a directory"),
        "{err}"
    );
    assert!(
        partials(tmp.path()).is_empty(),
        "{:?}",
        partials(tmp.path())
    );
    assert!(partials(&dir).is_empty());
}

#[test]
fn output_in_a_missing_directory_names_the_given_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("no-such-dir").join("out.csv");
    let (status, _, err) = score_to(out.to_str().unwrap(), &[]);
    assert!(!status.success());
    assert!(err.contains(out.to_str().unwrap()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("ember-partial"), "no temp path: {err}");
    assert!(partials(tmp.path()).is_empty());
}

/// The car-evaluation input repeated to `rows` rows.
fn big_input(path: &Path, rows: usize) {
    let text = std::fs::read_to_string(car_input()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "{header}").unwrap();
    for i in 0..rows {
        writeln!(f, "{}", body[i % body.len()]).unwrap();
    }
    f.flush().unwrap();
}

fn signal_mid_run(signal: &str, expected_code: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big.csv");
    big_input(&input, 2_000_000);
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("scored.csv");
    let child = spawn_ember(&score_args(&car_model(), &[&input], &output, &["--quiet"]));
    // wait for the partial output to exist and hold bytes
    let started = Instant::now();
    loop {
        let written = partials(&out_dir)
            .iter()
            .any(|n| std::fs::metadata(out_dir.join(n)).is_ok_and(|m| m.len() > 0));
        if written {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no partial output appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(child.id(), signal);
    let (status, _, err) = finish(child, Duration::from_secs(30)).parts();
    assert_eq!(status.code(), Some(expected_code), "{status:?}: {err}");
    assert!(err.contains("stopped by"), "{err}");
    assert!(partials(&out_dir).is_empty(), "{:?}", partials(&out_dir));
    assert!(!output.exists(), "no output file is created");
}

#[test]
fn sigterm_mid_run_removes_the_partial_output_and_exits_143() {
    signal_mid_run("-TERM", 143);
}

#[test]
fn sigint_mid_run_removes_the_partial_output_and_exits_130() {
    signal_mid_run("-INT", 130);
}

// ----------------------------------------------------------------------------------------
// the per-file limit

#[test]
fn model_files_over_the_model_file_limit_are_refused_naming_file_limit_and_flag() {
    // swModel.zip holds a 1.36 MB word2vec model.json
    let bundle = root().join("tests/fixtures/mleap-upstream/swModel.zip");
    let (status, _, err) = ember(&[
        "inspect",
        "--model",
        bundle.to_str().unwrap(),
        "--max-model-file-mb",
        "1",
    ])
    .parts();
    assert!(!status.success(), "{err}");
    assert!(err.contains("w2v_cc7e8bcf0314.node/model.json"), "{err}");
    assert!(
        err.contains("model-file limit of 1 MiB (--max-model-file-mb)"),
        "{err}"
    );
    // the default limit loads it
    let (status, _, err) = ember(&["inspect", "--model", bundle.to_str().unwrap()]).parts();
    assert!(status.success(), "{err}");
    // Spark metadata files are bounded by the same limit
    let model = car_model();
    let (status, _, err) = ember(&[
        "inspect",
        "--model",
        model.to_str().unwrap(),
        "--max-model-file-mb",
        "0",
    ])
    .parts();
    assert!(!status.success(), "{err}");
    assert!(err.contains("metadata/part-"), "{err}");
    assert!(err.contains("--max-model-file-mb"), "{err}");
}

#[test]
fn a_fifo_given_as_the_model_archive_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("model.tar.gz");
    mkfifo(&fifo);
    let (status, _, err, took) = inspect(&fifo);
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("model.tar.gz") && err.contains("is a FIFO"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
