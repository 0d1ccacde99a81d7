//! `weir::bytes`: conversions among buffers, strings, sources of chunks, readers, writers and
//! files.

mod support;

use std::cmp::Ordering;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncBufReadExt, AsyncReadExt, StreamExt};
use weir::bytes::{self as wb, IntoBytes, TransferOptions};
use weir::stream::{self, Channel, ConnectOptions, Source};
use weir::{Deferred, Error};

use support::run;

/// A reader that yields `data` in reads of at most `step` bytes, then fails with `kind` (or
/// ends, with `None`), reporting `Interrupted` once before each read when asked.
struct Scripted {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail: Option<io::ErrorKind>,
    interrupt: bool,
    interrupted: bool,
}

impl Scripted {
    fn new(data: &[u8], step: usize, fail: Option<io::ErrorKind>) -> Self {
        Scripted {
            data: data.to_vec(),
            pos: 0,
            step,
            fail,
            interrupt: false,
            interrupted: false,
        }
    }
}

impl futures_io::AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.interrupt && !this.interrupted {
            this.interrupted = true;
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        this.interrupted = false;
        if this.pos == this.data.len() {
            return Poll::Ready(match this.fail {
                Some(kind) => Err(io::Error::new(kind, "scripted failure")),
                None => Ok(0),
            });
        }
        let n = this.step.min(buf.len()).min(this.data.len() - this.pos);
        buf[..n].copy_from_slice(&this.data[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// What a [`Recorder`] saw.
#[derive(Default)]
struct Record {
    written: Vec<u8>,
    writes: usize,
    flushes: usize,
    closed: bool,
}

/// A writer that records into shared state; fails every write once `fail_after` writes were
/// made, and waits in `poll_write` while `gate` is unrealized.
#[derive(Clone, Default)]
struct Recorder {
    record: Arc<Mutex<Record>>,
    fail_after: Option<usize>,
    gate: Option<Deferred<(), Error>>,
}

impl futures_io::AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(gate) = self.gate.as_mut() {
            if Pin::new(gate).poll(cx).is_pending() {
                return Poll::Pending;
            }
            // A deferred that yielded is spent: the gate stays open from now on.
            self.gate = None;
        }
        let mut record = self.record.lock().unwrap();
        if self.fail_after.is_some_and(|n| record.writes >= n) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        record.writes += 1;
        // Short writes, to exercise `write_all`.
        let n = buf.len().min(3);
        record.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.record.lock().unwrap().flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.record.lock().unwrap().closed = true;
        Poll::Ready(Ok(()))
    }
}

use std::future::Future;

/// A unique path in the temp dir, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, AtomicOrdering::Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("weir-bytes-test-{}-{n}-{name}", std::process::id())),
        )
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn smoke_chunks_then_collect() {
    let all = run(wb::to_bytes(wb::chunks("hello, world", 5), 64)).unwrap();
    assert_eq!(all, "hello, world");
}

// Conversions of one buffer.

#[test]
fn into_bytes_from_every_buffer_type() {
    let expected = Bytes::from_static(b"abc");
    assert_eq!(Bytes::from_static(b"abc").into_bytes(), expected);
    assert_eq!((&expected).into_bytes(), expected);
    assert_eq!(BytesMut::from(&b"abc"[..]).into_bytes(), expected);
    assert_eq!(b"abc".to_vec().into_bytes(), expected);
    assert_eq!((&b"abc".to_vec()).into_bytes(), expected);
    assert_eq!(b"abc".to_vec().into_boxed_slice().into_bytes(), expected);
    assert_eq!((&b"abc"[..]).into_bytes(), expected);
    assert_eq!(b"abc".into_bytes(), expected);
    assert_eq!((*b"abc").into_bytes(), expected);
    assert_eq!(IntoBytes::into_bytes(String::from("abc")), expected);
    assert_eq!((&String::from("abc")).into_bytes(), expected);
    assert_eq!("abc".into_bytes(), expected);
    assert_eq!(std::borrow::Cow::Borrowed("abc").into_bytes(), expected);
    assert_eq!(
        std::borrow::Cow::<str>::Owned("abc".into()).into_bytes(),
        expected
    );
}

#[test]
fn into_bytes_takes_owned_buffers_over_without_copying() {
    let vec = b"owned".to_vec();
    let ptr = vec.as_ptr();
    assert_eq!(vec.into_bytes().as_ptr(), ptr);
    let string = String::from("owned");
    let ptr = string.as_ptr();
    // `String::into_bytes` (inherent) would give a `Vec<u8>`: name the trait.
    assert_eq!(IntoBytes::into_bytes(string).as_ptr(), ptr);
    let buf = BytesMut::from(&b"owned"[..]);
    let ptr = buf.as_ptr();
    assert_eq!(buf.into_bytes().as_ptr(), ptr);
}

#[test]
fn decode_utf8_valid_invalid_and_lossy() {
    assert_eq!(wb::decode_utf8("héllo").unwrap(), "héllo");
    assert_eq!(wb::decode_utf8(Bytes::new()).unwrap(), "");
    let error = wb::decode_utf8(&b"ab\xc3\x28"[..]).unwrap_err();
    assert!(error.is_protocol());
    assert_eq!(error.to_string(), "protocol error: invalid UTF-8 at byte 2");
    assert_eq!(wb::decode_utf8_lossy(&b"ab\xff"[..]), "ab\u{fffd}");
}

// Collecting a stream.

#[test]
fn to_bytes_of_mixed_chunk_types_and_empty_sources() {
    let chunks: Vec<Bytes> = vec!["a".into_bytes(), Bytes::new(), b"bc".to_vec().into_bytes()];
    assert_eq!(run(wb::to_bytes(stream::iter(chunks), 3)).unwrap(), "abc");
    let empty = stream::iter(Vec::<Bytes>::new());
    assert_eq!(run(wb::to_bytes(empty, 0)).unwrap(), Bytes::new());
}

#[test]
fn to_bytes_of_a_single_chunk_does_not_copy() {
    let chunk = Bytes::from(vec![7u8; 100]);
    let ptr = chunk.as_ptr();
    let all = run(wb::to_bytes(stream::iter(vec![chunk]), 100)).unwrap();
    assert_eq!(all.as_ptr(), ptr);
}

#[test]
fn to_bytes_at_the_limit_succeeds_and_past_it_fails_and_closes_the_source() {
    assert_eq!(
        run(wb::to_bytes(stream::iter(vec!["abc", "de"]), 5)).unwrap(),
        "abcde"
    );
    run(async {
        let source = Channel::new(8);
        for chunk in ["abc", "def", "ghi"] {
            source.put(chunk).await.unwrap();
        }
        let error = wb::to_bytes(source.clone(), 5).await.unwrap_err();
        assert!(error.is_protocol(), "{error}");
        assert_eq!(
            error.to_string(),
            "protocol error: stream longer than the limit of 5 bytes"
        );
        assert!(source.is_closed());
        // Only what it read was consumed; the rest stays in the closed channel.
        assert_eq!(Channel::take_next(&source).await, Some("ghi"));
    });
}

#[test]
fn to_bytes_fails_with_the_sources_drain_cause() {
    run(async {
        let source = Channel::new(4);
        source.put("partial").await.unwrap();
        source.close_with_error(Error::msg("upstream broke"));
        let error = wb::to_bytes(source, 100).await.unwrap_err();
        assert_eq!(error.to_string(), "upstream broke");
    });
}

#[test]
fn to_bytes_cancelled_closes_the_source() {
    run(async {
        let source = Channel::<&str>::new(4);
        let collecting = wb::to_bytes(source.clone(), 100);
        source.put("waiting").await.unwrap();
        collecting.error(Error::cancelled());
        source.closed().await.unwrap();
        assert!(source.is_closed());
    });
}

#[test]
fn to_string_joins_split_characters_and_rejects_invalid_utf8() {
    let split = stream::iter(vec![&b"\xe2\x82"[..], &b"\xac = euro"[..]]);
    assert_eq!(run(wb::to_string(split, 64)).unwrap(), "€ = euro");

    let invalid = stream::iter(vec![&b"fine, "[..], &b"then \xc0 bad"[..]]);
    let error = run(wb::to_string(invalid, 64)).unwrap_err();
    assert!(error.is_protocol());
    assert_eq!(
        error.to_string(),
        "protocol error: invalid UTF-8 at byte 11"
    );

    let over = stream::iter(vec!["0123456789"]);
    assert!(run(wb::to_string(over, 9)).unwrap_err().is_protocol());
}

#[test]
fn to_string_lossy_replaces_invalid_utf8() {
    let invalid = stream::iter(vec![&b"a\xff"[..], &b"b"[..]]);
    assert_eq!(run(wb::to_string_lossy(invalid, 64)).unwrap(), "a\u{fffd}b");
    let over = stream::iter(vec!["0123456789"]);
    assert!(run(wb::to_string_lossy(over, 1)).unwrap_err().is_protocol());
}

// Chunks.

#[test]
fn chunks_are_zero_copy_slices_of_the_given_size() {
    let data = Bytes::from((0u8..=99).collect::<Vec<_>>());
    let source = wb::chunks(data.clone(), 32);
    assert_eq!(futures_core::Stream::size_hint(&source), (4, Some(4)));
    assert_eq!(source.description().kind, "chunks");
    let drained = source.drained();
    let parts: Vec<Bytes> = run(source.collect());
    assert_eq!(
        parts.iter().map(Bytes::len).collect::<Vec<_>>(),
        [32, 32, 32, 4]
    );
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(
            part.as_ptr(),
            data[i * 32..].as_ptr(),
            "chunk {i} was copied"
        );
    }
    assert!(run(drained).is_ok());
    assert_eq!(run(wb::chunks("", 4).count()), 0);
}

#[test]
fn closing_chunks_ends_it() {
    let mut source = wb::chunks("abcdef", 2);
    assert_eq!(run(source.next()).unwrap(), "ab");
    source.close();
    assert!(source.is_drained());
    assert_eq!(run(source.next()), None);
}

#[test]
#[should_panic(expected = "chunk size must be at least 1")]
fn chunks_of_size_zero_panic() {
    let _ = wb::chunks("abc", 0);
}

// Readers.

#[test]
fn from_reader_yields_each_read_as_a_chunk() {
    let mut reader = Scripted::new(b"abcdefgh", 3, None);
    reader.interrupt = true;
    let source = wb::from_reader(reader, 8);
    assert_eq!(source.description().kind, "reader");
    let drained = source.drained();
    let parts: Vec<Bytes> = run(source.collect());
    assert_eq!(parts, ["abc", "def", "gh"]);
    assert!(run(drained).is_ok());
    // Reads larger than the chunk size are split by the buffer.
    let parts: Vec<Bytes> =
        run(wb::from_reader(Scripted::new(b"abcdefgh", 100, None), 5).collect());
    assert_eq!(parts, ["abcde", "fgh"]);
}

#[test]
fn from_reader_ends_with_the_io_error_as_drain_cause() {
    let source = wb::from_reader(
        Scripted::new(b"before", 4, Some(io::ErrorKind::ConnectionReset)),
        16,
    );
    let drained = source.drained();
    let parts: Vec<Bytes> = run(source.collect());
    assert_eq!(parts, ["befo", "re"]);
    let cause = run(drained).unwrap_err();
    assert!(cause.is_io(), "{cause:?}");
    let io = cause.downcast_ref::<io::Error>().unwrap();
    assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
}

#[test]
fn collecting_a_failing_reader_fails() {
    let source = wb::from_reader(
        Scripted::new(b"data", 4, Some(io::ErrorKind::UnexpectedEof)),
        16,
    );
    assert!(run(wb::to_bytes(source, 100)).unwrap_err().is_io());
}

#[test]
fn closing_from_reader_ends_it() {
    let mut source = wb::from_reader(Scripted::new(b"abcdef", 2, None), 2);
    assert_eq!(run(source.next()).unwrap(), "ab");
    source.close();
    assert_eq!(run(source.next()), None);
    assert!(run(source.drained()).is_ok());
}

#[test]
fn to_reader_reads_the_concatenation() {
    let mut reader = wb::to_reader(stream::iter(vec!["ab", "", "cde", "f"]));
    let mut small = [0u8; 2];
    let n = run(reader.read(&mut small)).unwrap();
    assert_eq!(&small[..n], b"ab");
    let mut rest = Vec::new();
    run(reader.read_to_end(&mut rest)).unwrap();
    assert_eq!(rest, b"cdef");
    assert_eq!(run(reader.read(&mut small)).unwrap(), 0);
}

#[test]
fn to_reader_is_a_buffered_reader() {
    let mut reader = wb::to_reader(stream::iter(vec!["first li", "ne\nsecond\n"]));
    let mut line = String::new();
    run(reader.read_line(&mut line)).unwrap();
    assert_eq!(line, "first line\n");
    line.clear();
    run(reader.read_line(&mut line)).unwrap();
    assert_eq!(line, "second\n");
}

#[test]
fn to_reader_reports_the_sources_drain_cause() {
    run(async {
        let source = Channel::new(2);
        source.put("ok").await.unwrap();
        source.close_with_error(Error::msg("source failed"));
        let mut reader = wb::to_reader(source);
        let mut all = Vec::new();
        let error = reader.read_to_end(&mut all).await.unwrap_err();
        assert_eq!(all, b"ok");
        let inner = error.get_ref().unwrap().downcast_ref::<Error>().unwrap();
        assert_eq!(inner.to_string(), "source failed");
    });
}

#[test]
fn dropping_to_reader_closes_the_source() {
    let source = Channel::<&str>::new(1);
    drop(wb::to_reader(source.clone()));
    assert!(source.is_closed());
}

// Lines.

#[test]
fn lines_split_like_str_lines_across_chunks() {
    let source = stream::iter(vec!["a\r", "\nb", "b\n\n", "last"]);
    let all: Vec<String> = run(wb::lines(source, 16).collect());
    assert_eq!(all, ["a", "bb", "", "last"]);
    let trailing_cr: Vec<String> = run(wb::lines(stream::iter(vec!["x\ny\r"]), 16).collect());
    assert_eq!(trailing_cr, ["x", "y\r"]);
}

#[test]
fn lines_of_exactly_the_maximum_pass() {
    let source = stream::iter(vec!["1234\r\n12", "34\n1234"]);
    let lines = wb::lines(source, 4);
    let drained = lines.drained();
    let all: Vec<String> = run(lines.collect());
    assert_eq!(all, ["1234", "1234", "1234"]);
    assert!(run(drained).is_ok());
}

#[test]
fn a_line_over_the_maximum_ends_the_source_and_closes_upstream() {
    run(async {
        let upstream = Channel::new(8);
        upstream.put("ok\n").await.unwrap();
        upstream.put("0123").await.unwrap();
        upstream.put("456789").await.unwrap();
        let lines = wb::lines(upstream.clone(), 5);
        let drained = lines.drained();
        let all: Vec<String> = lines.collect().await;
        assert_eq!(all, ["ok"]);
        let error = drained.await.unwrap_err();
        assert!(error.is_protocol());
        assert_eq!(
            error.to_string(),
            "protocol error: line longer than 5 bytes at byte 3"
        );
        assert!(upstream.is_closed());
    });
    // An unfinished last line over the maximum fails too.
    let lines = wb::lines(stream::iter(vec!["123456"]), 5);
    let drained = lines.drained();
    assert_eq!(run(lines.count()), 0);
    assert!(run(drained).unwrap_err().is_protocol());
}

#[test]
fn a_line_of_invalid_utf8_ends_the_source() {
    let source = stream::iter(vec![&b"good\nb\xffd\nnever\n"[..]]);
    let lines = wb::lines(source, 80);
    let drained = lines.drained();
    let all: Vec<String> = run(lines.collect());
    assert_eq!(all, ["good"]);
    let error = run(drained).unwrap_err();
    assert_eq!(error.to_string(), "protocol error: invalid UTF-8 at byte 6");
}

#[test]
fn lines_end_with_the_upstream_error_dropping_an_unfinished_line() {
    let reader = Scripted::new(b"one\ntw", 100, Some(io::ErrorKind::ConnectionAborted));
    let lines = wb::lines(wb::from_reader(reader, 64), 80);
    assert_eq!(lines.description().kind, "lines");
    let drained = lines.drained();
    let all: Vec<String> = run(lines.collect());
    assert_eq!(all, ["one"]);
    assert!(run(drained).unwrap_err().is_io());
}

#[test]
fn lines_show_in_the_graph_after_their_upstream() {
    let upstream = wb::chunks("a\nb", 1);
    let node = upstream.node();
    let lines = wb::lines(upstream, 8);
    let edges = node.downstream();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].description.as_deref(), Some("lines"));
    assert_eq!(edges[0].target.description().kind, "lines");
    drop(lines);
}

#[test]
fn closing_lines_closes_upstream() {
    let upstream = Channel::<&str>::new(1);
    let lines = wb::lines(upstream.clone(), 8);
    lines.close();
    assert!(upstream.is_closed());
    assert!(lines.is_drained());
}

// Transfer.

#[test]
fn transfer_writes_everything_then_flushes_and_closes() {
    let writer = Recorder::default();
    let record = writer.record.clone();
    let source = stream::iter(vec!["hello ", "wonderful ", "world"]);
    let written = run(wb::transfer(source, writer, TransferOptions::new())).unwrap();
    assert_eq!(written, 21);
    let record = record.lock().unwrap();
    assert_eq!(record.written, b"hello wonderful world");
    assert!(record.flushes >= 1);
    assert!(record.closed);
}

#[test]
fn transfer_without_close_only_flushes() {
    let writer = Recorder::default();
    let record = writer.record.clone();
    let options = TransferOptions::new().close(false);
    assert!(!options.closes());
    run(wb::transfer(stream::iter(vec!["x"]), writer, options)).unwrap();
    let record = record.lock().unwrap();
    assert!(record.flushes >= 1);
    assert!(!record.closed);
}

#[test]
fn transfer_write_error_fails_and_closes_the_source() {
    run(async {
        let source = Channel::new(4);
        source.put("abcdef").await.unwrap();
        source.put("more").await.unwrap();
        let writer = Recorder {
            fail_after: Some(1),
            ..Recorder::default()
        };
        let record = writer.record.clone();
        let error = wb::transfer(source.clone(), writer, TransferOptions::new())
            .await
            .unwrap_err();
        assert!(error.is_io());
        assert!(source.is_closed());
        assert!(
            !record.lock().unwrap().closed,
            "a broken writer is not closed"
        );
    });
}

#[test]
fn transfer_fails_with_the_source_drain_cause_after_closing_the_writer() {
    run(async {
        let source = Channel::new(4);
        source.put("abc").await.unwrap();
        source.close_with_error(Error::msg("producer failed"));
        let writer = Recorder::default();
        let record = writer.record.clone();
        let error = wb::transfer(source, writer, TransferOptions::new())
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "producer failed");
        let record = record.lock().unwrap();
        assert_eq!(record.written, b"abc");
        assert!(record.closed);
    });
}

#[test]
fn transfer_takes_the_next_chunk_only_after_the_write() {
    run(async {
        let source = Channel::unbuffered();
        let gate: Deferred<(), Error> = Deferred::new();
        let writer = Recorder {
            gate: Some(gate.clone()),
            ..Recorder::default()
        };
        let record = writer.record.clone();
        let done = wb::transfer(source.clone(), writer, TransferOptions::new());
        // Taken by the transfer, whose write then waits at the gate.
        source.put("first").await.unwrap();
        // Nobody takes while the write waits.
        let refused = source.try_put("second", Duration::ZERO).await.unwrap_err();
        assert!(refused.is_timeout());
        assert!(record.lock().unwrap().written.is_empty());
        gate.success(());
        source.put("second").await.unwrap();
        source.close();
        assert_eq!(done.await.unwrap(), 11);
        assert_eq!(record.lock().unwrap().written, b"firstsecond");
    });
}

#[test]
fn writer_sink_connected_to_a_source() {
    run(async {
        let writer = Recorder::default();
        let record = writer.record.clone();
        let sink = wb::writer_sink(writer);
        assert_eq!(
            weir::stream::Sink::<&str>::description(&sink).kind,
            "writer"
        );
        let source = stream::iter(vec!["a", "bcde", "f"]);
        stream::connect(source, sink, ConnectOptions::new())
            .await
            .unwrap();
        let record = record.lock().unwrap();
        assert_eq!(record.written, b"abcdef");
        assert!(
            record.closed,
            "the source's end closed the sink and the writer"
        );
    });
}

#[test]
fn writer_sink_write_error_closes_it() {
    use futures::SinkExt;
    run(async {
        let writer = Recorder {
            fail_after: Some(0),
            ..Recorder::default()
        };
        let mut sink = wb::writer_sink(writer);
        let error = sink.send("x").await.unwrap_err();
        assert!(error.is_io());
        assert!(weir::stream::Sink::<&str>::is_closed(&sink));
        assert!(sink.send("y").await.unwrap_err().is_closed());
    });
}

// Files.

#[test]
fn write_file_then_read_file() {
    let path = TempPath::new("roundtrip");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let written = run(wb::write_file(&path.0, wb::chunks(data.clone(), 7_000))).unwrap();
    assert_eq!(written, data.len() as u64);
    assert_eq!(run(wb::read_file(&path.0, data.len())).unwrap(), data);
    let error = run(wb::read_file(&path.0, data.len() - 1)).unwrap_err();
    assert!(error.is_protocol());
}

#[test]
fn file_source_reads_in_chunks() {
    let path = TempPath::new("source");
    std::fs::write(&path.0, "0123456789").unwrap();
    let source = wb::file_source(&path.0, 4);
    assert_eq!(source.description().kind, "file");
    let drained = source.drained();
    let parts: Vec<Bytes> = run(source.collect());
    assert_eq!(parts, ["0123", "4567", "89"]);
    assert!(run(drained).is_ok());
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let path = TempPath::new("missing");
    let error = run(wb::read_file(&path.0, 10)).unwrap_err();
    assert!(error.is_io());
    assert!(error.to_string().contains("weir-bytes-test"), "{error}");
    assert_eq!(
        error.downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::NotFound
    );
    let source = wb::file_source(&path.0, 10);
    let drained = source.drained();
    assert_eq!(run(source.count()), 0);
    assert!(run(drained).unwrap_err().is_io());

    let in_missing_dir = path.0.join("child");
    let error = run(wb::write_file(&in_missing_dir, stream::iter(vec!["x"]))).unwrap_err();
    assert!(error.is_io());
    assert!(run(wb::file_sink(&in_missing_dir)).unwrap_err().is_io());
}

#[test]
fn file_sink_writes_what_is_connected() {
    let path = TempPath::new("sink");
    run(async {
        let sink = wb::file_sink(&path.0).await.unwrap();
        let source = wb::lines(stream::iter(vec!["a\nb\n"]), 8);
        let with_newlines = stream::SourceExt::map_each(source, |line| format!("{line};"));
        stream::connect(with_newlines, sink, ConnectOptions::new())
            .await
            .unwrap();
    });
    assert_eq!(std::fs::read_to_string(&path.0).unwrap(), "a;b;");
}

// Comparing and dumping.

#[test]
fn compare_bytes_is_unsigned_lexicographic() {
    assert_eq!(wb::compare_bytes(b"", b""), Ordering::Equal);
    assert_eq!(wb::compare_bytes(b"", b"a"), Ordering::Less);
    assert_eq!(wb::compare_bytes([0x80], [0x7f]), Ordering::Greater);
    assert_eq!(
        wb::compare_bytes(Bytes::from("abc"), "abc"),
        Ordering::Equal
    );
    assert_eq!(wb::compare_bytes(vec![1, 2, 3], [1, 2]), Ordering::Greater);
}

#[test]
fn hex_dump_lines_offsets_and_gutter() {
    assert_eq!(wb::hex_dump(b""), "");
    let dump = wb::hex_dump((0u8..40).collect::<Vec<_>>());
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("00000000  00 01 02 03 04 05 06 07  08 09"));
    assert!(lines[1].starts_with("00000010  10 11"));
    assert!(lines[2].starts_with("00000020  20 21 22 23 24 25 26 27  "));
    assert!(lines[2].ends_with("| !\"#$%&'|"), "{}", lines[2]);
    // Every line is as wide up to the gutter.
    assert!(lines.iter().all(|line| line.find('|') == Some(60)));
}
