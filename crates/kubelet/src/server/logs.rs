//! Container logs as the kubelet serves them: reading a CRI log file
//! (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`, `P` = a partial line continued by the next
//! record) with upstream's options — tail, since, timestamps, byte limit — and following it
//! while the container runs, across rotations.

use std::future::Future;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, BufReader};
use tokio::sync::mpsc;

/// The options of a log request (upstream's `PodLogOptions` as the kubelet reads them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogOptions {
    /// Keep streaming while the container runs.
    pub follow: bool,
    /// The previous instance of the container.
    pub previous: bool,
    /// Only the last N lines of the file.
    pub tail_lines: Option<i64>,
    /// Only records at or after this time.
    pub since: Option<jiff::Timestamp>,
    /// Prefix each line with its RFC3339Nano time.
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
}

fn flag(v: Option<&str>) -> Result<bool, ()> {
    match v {
        None | Some("") => Ok(false),
        Some("true" | "1" | "True" | "TRUE" | "t" | "T") => Ok(true),
        Some("false" | "0" | "False" | "FALSE" | "f" | "F") => Ok(false),
        Some(_) => Err(()),
    }
}

fn int(v: Option<&str>) -> Result<Option<i64>, ()> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ()),
    }
}

/// Why a query was refused: upstream's kubelet answers 400 for what does not decode and 422 for
/// what does not validate.
#[derive(Debug, PartialEq, Eq)]
pub enum QueryError {
    /// A value does not parse.
    Decode,
    /// Values that parse but are not allowed.
    Invalid,
}

impl LogOptions {
    /// Reads the options from query parameters (`get` returns one parameter's value).
    pub fn from_query<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<LogOptions, QueryError> {
        let d = |_| QueryError::Decode;
        let mut tail_lines = int(get("tailLines")).map_err(d)?;
        // upstream still honours the old "tail" parameter
        if tail_lines.is_none() {
            tail_lines = int(get("tail")).map_err(d)?;
        }
        let since_seconds = int(get("sinceSeconds")).map_err(d)?;
        let since_time = match get("sinceTime") {
            None | Some("") => None,
            Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|_| QueryError::Decode)?),
        };
        let opts = LogOptions {
            follow: flag(get("follow")).map_err(d)?,
            previous: flag(get("previous")).map_err(d)?,
            timestamps: flag(get("timestamps")).map_err(d)?,
            limit_bytes: int(get("limitBytes")).map_err(d)?,
            tail_lines,
            since: since_time,
        };
        if opts.tail_lines.is_some_and(|n| n < 0) || opts.limit_bytes.is_some_and(|n| n < 1) || since_seconds.is_some_and(|n| n < 1) {
            return Err(QueryError::Invalid);
        }
        if since_seconds.is_some() && since_time.is_some() {
            return Err(QueryError::Invalid);
        }
        let since = match since_seconds {
            Some(s) => Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(s)),
            None => since_time,
        };
        Ok(LogOptions { since, ..opts })
    }
}

/// One record of a CRI log file.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// When it was written.
    pub time: jiff::Timestamp,
    /// `stdout` or `stderr`.
    pub stream: &'a str,
    /// A partial line: the next record continues it.
    pub partial: bool,
    /// The text, without the newline.
    pub text: &'a [u8],
}

/// Parses one line of a CRI log file (without its newline); `None` when it is not one.
pub fn parse_record(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?.parse::<jiff::Timestamp>().ok()?;
    let stream = std::str::from_utf8(parts.next()?).ok()?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    let tags = std::str::from_utf8(parts.next()?).ok()?;
    let partial = match tags.split(':').next() {
        Some("P") => true,
        Some("F") => false,
        _ => return None,
    };
    Some(Record { time, stream, partial, text: parts.next().unwrap_or(b"") })
}

/// Upstream's RFC3339Nano: UTC, fractional seconds without trailing zeros.
fn rfc3339_nano(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// Where the last `n` lines of `file` start.
async fn tail_start(file: &mut tokio::fs::File, n: i64) -> std::io::Result<u64> {
    let len = file.seek(SeekFrom::End(0)).await?;
    if n == 0 {
        return Ok(len);
    }
    let mut end = len;
    let mut found = 0i64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut first = true;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).await?;
        file.read_exact(chunk).await?;
        for i in (0..chunk.len()).rev() {
            if chunk[i] != b'\n' {
                continue;
            }
            // the file's final newline ends the last line, it does not start one
            if first && start + i as u64 == len - 1 {
                continue;
            }
            found += 1;
            if found == n {
                return Ok(start + i as u64 + 1);
            }
        }
        first = false;
        end = start;
    }
    Ok(0)
}

/// Writes records to the response as upstream's kubelet does.
struct Writer {
    tx: mpsc::Sender<Bytes>,
    opts: LogOptions,
    remaining: Option<u64>,
    new_line: bool,
}

impl Writer {
    /// `false` once nothing more may be written (limit reached or client gone).
    async fn record(&mut self, r: &Record<'_>) -> bool {
        if self.opts.since.is_some_and(|s| r.time < s) {
            return true;
        }
        let mut out = Vec::with_capacity(r.text.len() + 40);
        if self.opts.timestamps && self.new_line {
            out.extend_from_slice(rfc3339_nano(r.time).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(r.text);
        if !r.partial {
            out.push(b'\n');
        }
        self.new_line = !r.partial;
        let mut done = false;
        if let Some(rem) = &mut self.remaining {
            if out.len() as u64 >= *rem {
                out.truncate(*rem as usize);
                done = true;
            }
            *rem -= out.len() as u64;
        }
        if !out.is_empty() && self.tx.send(Bytes::from(out)).await.is_err() {
            return false;
        }
        !done
    }
}

fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// How often a follower looks for new data, and how often it asks whether the container still
/// runs while no data comes.
const POLL: Duration = Duration::from_millis(100);
const STATE_CHECK: Duration = Duration::from_secs(1);

/// Streams the log at `path` into `tx` per `opts`; with `follow`, keeps reading while
/// `running()` says the container runs (reopening the file when it is rotated). Returns when
/// done, when the limit is reached or when the receiver is gone.
pub async fn stream<F, Fut>(path: PathBuf, opts: LogOptions, tx: mpsc::Sender<Bytes>, mut running: F) -> std::io::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut file = tokio::fs::File::open(&path).await?;
    let start = match opts.tail_lines {
        Some(n) => tail_start(&mut file, n).await?,
        None => 0,
    };
    file.seek(SeekFrom::Start(start)).await?;
    let mut id = inode(&path);
    let mut reader = BufReader::new(file);
    let follow = opts.follow;
    let mut w = Writer { tx, remaining: opts.limit_bytes.map(|n| n.max(0) as u64), opts, new_line: true };
    let mut line = Vec::new();
    let mut last_check = tokio::time::Instant::now();
    let mut exited = false;
    loop {
        let n = reader.read_until(b'\n', &mut line).await?;
        if n > 0 && line.ends_with(b"\n") {
            line.pop();
            if let Some(r) = parse_record(&line)
                && !w.record(&r).await
            {
                return Ok(());
            }
            line.clear();
            continue;
        }
        // end of the file (possibly in the middle of a line being written)
        if !follow || exited {
            if !line.is_empty()
                && let Some(r) = parse_record(&line)
            {
                w.record(&r).await;
            }
            return Ok(());
        }
        if w.tx.is_closed() {
            return Ok(());
        }
        // rotated: the path names a new file; finish the old one, then read the new from its start
        let now_id = inode(&path);
        if now_id.is_some()
            && now_id != id
            && let Ok(f) = tokio::fs::File::open(&path).await
        {
            id = now_id;
            reader = BufReader::new(f);
            line.clear();
            continue;
        }
        if last_check.elapsed() >= STATE_CHECK {
            last_check = tokio::time::Instant::now();
            if !running().await {
                // one more pass picks up what was written before the exit
                exited = true;
                continue;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn q<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn options_validate_as_upstream() {
        let o = LogOptions::from_query(q(&[("follow", "true"), ("tailLines", "3"), ("timestamps", "1")])).unwrap();
        assert!(o.follow && o.timestamps && !o.previous);
        assert_eq!(o.tail_lines, Some(3));
        assert_eq!(LogOptions::from_query(q(&[("tailLines", "-1")])), Err(QueryError::Invalid));
        assert_eq!(LogOptions::from_query(q(&[("limitBytes", "0")])), Err(QueryError::Invalid));
        assert_eq!(LogOptions::from_query(q(&[("sinceSeconds", "0")])), Err(QueryError::Invalid));
        assert_eq!(LogOptions::from_query(q(&[("sinceSeconds", "5"), ("sinceTime", "2024-01-01T00:00:00Z")])), Err(QueryError::Invalid));
        assert_eq!(LogOptions::from_query(q(&[("tailLines", "x")])), Err(QueryError::Decode));
        assert_eq!(LogOptions::from_query(q(&[("follow", "yes")])), Err(QueryError::Decode));
        assert_eq!(LogOptions::from_query(q(&[("tail", "2")])).unwrap().tail_lines, Some(2));
        let o = LogOptions::from_query(q(&[("sinceSeconds", "10")])).unwrap();
        assert!(o.since.unwrap() < jiff::Timestamp::now());
    }

    #[test]
    fn records_parse() {
        let r = parse_record(b"2024-05-01T10:00:00.123456789Z stdout F hello world").unwrap();
        assert_eq!((r.stream, r.partial, r.text), ("stdout", false, &b"hello world"[..]));
        assert_eq!(r.time.to_string(), "2024-05-01T10:00:00.123456789Z");
        let r = parse_record(b"2024-05-01T10:00:00.100000000+00:00 stderr P part").unwrap();
        assert!(r.partial);
        assert_eq!(rfc3339_nano(r.time), "2024-05-01T10:00:00.1Z");
        assert_eq!(parse_record(b"2024-05-01T10:00:00Z stdout F").unwrap().text, b"");
        assert!(parse_record(b"garbage").is_none());
        assert!(parse_record(b"2024-05-01T10:00:00Z other F x").is_none());
        assert!(parse_record(b"2024-05-01T10:00:00Z stdout X x").is_none());
    }

    const LOG: &str = "2024-05-01T10:00:01.000000000Z stdout F one\n\
                       2024-05-01T10:00:02.000000000Z stderr P tw\n\
                       2024-05-01T10:00:02.500000000Z stderr F o\n\
                       2024-05-01T10:00:03.000000000Z stdout F three\n";

    async fn read(contents: &str, opts: LogOptions) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, contents).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        stream(path, opts, tx, || async { false }).await.unwrap();
        let mut out = Vec::new();
        while let Some(b) = rx.recv().await {
            out.extend_from_slice(&b);
        }
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn reading_with_options() {
        assert_eq!(read(LOG, LogOptions::default()).await, "one\ntwo\nthree\n");
        let tail = |n| LogOptions { tail_lines: Some(n), ..Default::default() };
        assert_eq!(read(LOG, tail(1)).await, "three\n");
        assert_eq!(read(LOG, tail(2)).await, "o\nthree\n");
        assert_eq!(read(LOG, tail(0)).await, "");
        assert_eq!(read(LOG, tail(10)).await, "one\ntwo\nthree\n");
        let ts = LogOptions { timestamps: true, ..Default::default() };
        assert_eq!(read(LOG, ts).await, "2024-05-01T10:00:01Z one\n2024-05-01T10:00:02Z two\n2024-05-01T10:00:03Z three\n");
        let since = LogOptions { since: Some("2024-05-01T10:00:02.5Z".parse().unwrap()), ..Default::default() };
        assert_eq!(read(LOG, since).await, "o\nthree\n");
        let limit = LogOptions { limit_bytes: Some(6), ..Default::default() };
        assert_eq!(read(LOG, limit).await, "one\ntw");
        // a file without a final newline, and a garbage line in between
        assert_eq!(read("2024-05-01T10:00:01Z stdout F a\nnoise\n2024-05-01T10:00:01Z stdout F b", LogOptions::default()).await, "a\nb\n");
    }

    #[tokio::test]
    async fn following_until_exit_and_across_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "2024-05-01T10:00:01Z stdout F first\n").unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (tx, mut rx) = mpsc::channel(16);
        let r = running.clone();
        let opts = LogOptions { follow: true, ..Default::default() };
        let task = tokio::spawn(stream(path.clone(), opts, tx, move || {
            let r = r.clone();
            async move { r.load(std::sync::atomic::Ordering::SeqCst) }
        }));
        assert_eq!(rx.recv().await.unwrap(), Bytes::from("first\n"));
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        // a line written in two pieces arrives whole
        f.write_all(b"2024-05-01T10:00:02Z stdout F sec").unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        f.write_all(b"ond\n").unwrap();
        assert_eq!(rx.recv().await.unwrap(), Bytes::from("second\n"));
        // rotation: the file is renamed and a new one takes its place
        std::fs::rename(&path, dir.path().join("0.log.1")).unwrap();
        std::fs::write(&path, "2024-05-01T10:00:03Z stdout F third\n").unwrap();
        assert_eq!(rx.recv().await.unwrap(), Bytes::from("third\n"));
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"2024-05-01T10:00:04Z stdout F last\n").unwrap();
        assert_eq!(rx.recv().await.unwrap(), Bytes::from("last\n"));
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("follow ends when the container exits").unwrap().unwrap();
        assert!(rx.recv().await.is_none());
    }
}
