//! Public types are Send and Sync where they should be.

use weir::deferred::{AlreadyRealized, Loop, Realizer, WaitTimeout};
use weir::runtime::{Interval, Sleep, Task, Timeout};
use weir::stream::{
    Batch, BlockingIter, BufferedChannel, Channel, ChannelBuilder, Concat, ConnectOptions,
    Description, DroppingChannel, Edge, EventBus, Filter, FromReceiver, FromStream, IntoSink, Iter,
    Map, Mapcat, Named, Node, Once, Partition, PutError, RealizeEach, Reductions, SinkOnly,
    SlidingChannel, SourceOnly, Splice, TakeError, Throttle, Transform, Zip,
};
use weir::{Deferred, Error};

use bytes::Bytes;
use futures_lite::io::Cursor;
use weir::bytes::{
    Chunks, FileSource, FromReader, Lines, SourceReader, TransferOptions, WriterSink,
};
use weir::codec::{
    Decode, DelimiterCodec, DuplexHalf, Encode, Endian, Framed, LengthPrefixedCodec, LinesCodec,
    Prefix,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

type Fun = fn(u8) -> u8;
type Pred = fn(&u8) -> bool;

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Error>();
    send_sync::<Deferred<u8>>();
    send_sync::<Deferred<String, std::io::ErrorKind>>();
    send_sync::<Realizer<u8>>();
    send_sync::<AlreadyRealized<u8, Error>>();
    send_sync::<WaitTimeout<u8, Error>>();
    send_sync::<Loop<u8, u8>>();
    send_sync::<Sleep>();
    send_sync::<Interval>();
    send_sync::<Timeout<Sleep>>();
    send::<Task<u8>>();
    // A deferred of a value that is Send but not Sync (a connection with a Cell inside) is
    // still Send and Sync: the value is only ever moved between threads, never shared.
    send_sync::<Deferred<std::cell::Cell<u8>>>();
}

#[test]
fn stream_types_are_send_and_shared_handles_are_sync() {
    // Shared handles: usable from several threads at once.
    send_sync::<Channel<u8>>();
    send_sync::<ChannelBuilder<u8>>();
    send_sync::<BufferedChannel<u8>>();
    send_sync::<DroppingChannel<u8>>();
    send_sync::<SlidingChannel<u8>>();
    send_sync::<EventBus<String, u8>>();
    send_sync::<weir::stream::Publish<u8>>();
    send_sync::<weir::runtime::Executor>();
    send_sync::<weir::runtime::SetExecutorError>();
    send_sync::<ConnectOptions>();
    send_sync::<Description>();
    send_sync::<Node>();
    send_sync::<Edge>();
    send_sync::<PutError<u8>>();
    send_sync::<TakeError>();
    send_sync::<SourceOnly<Channel<u8>>>();
    send_sync::<SinkOnly<Channel<u8>>>();
    send_sync::<Splice<Channel<u8>, Channel<u8>>>();
    // Sources owned by one consumer: Send, so they can move into a task.
    send::<Iter<std::vec::IntoIter<u8>>>();
    send::<Map<Channel<u8>, Fun>>();
    send::<Named<Channel<u8>>>();
    send::<Filter<Channel<u8>, Pred>>();
    send::<Mapcat<Channel<u8>, fn(u8) -> Vec<u8>, std::vec::IntoIter<u8>>>();
    send::<Reductions<Channel<u8>, fn(u8, u8) -> u8, u8>>();
    send::<Zip<Channel<u8>, Channel<u8>>>();
    send::<Concat<Channel<Channel<u8>>>>();
    send::<RealizeEach<Channel<Deferred<u8>>>>();
    send::<Partition<u8>>();
    send::<Batch<Channel<u8>>>();
    send::<Throttle<Channel<u8>>>();
    send::<FromStream<futures::stream::Iter<std::vec::IntoIter<u8>>>>();
    send::<FromReceiver<u8>>();
    send::<Once<u8, Error>>();
    send::<IntoSink<futures::sink::Drain<u8>>>();
    send::<BlockingIter<Channel<u8>>>();
    send::<Transform<Channel<u8>, weir::stream::FnTransducer<fn(u8) -> Option<u8>>, u8>>();
}

#[test]
fn bytes_and_codec_types_are_send_and_values_are_sync() {
    // Values and options: shared freely.
    send_sync::<TransferOptions>();
    send_sync::<LinesCodec>();
    send_sync::<LengthPrefixedCodec>();
    send_sync::<DelimiterCodec>();
    send_sync::<Prefix>();
    send_sync::<Endian>();
    // The two halves `framed` makes share their duplex stream behind a lock.
    send_sync::<DuplexHalf<Splice<Channel<Bytes>, Channel<Bytes>>>>();
    // Sources owned by one consumer, and sinks owned by one producer: Send, so they can move
    // into a task.
    send::<Chunks>();
    send::<FileSource>();
    send::<FromReader<Cursor<Vec<u8>>>>();
    send::<Lines<Channel<Bytes>>>();
    send::<SourceReader<Channel<Bytes>>>();
    send::<WriterSink<Cursor<Vec<u8>>>>();
    send::<WriterSink<async_fs::File>>();
    send::<Decode<Channel<Bytes>, LinesCodec>>();
    send::<Encode<Channel<Bytes>, LengthPrefixedCodec>>();
    send::<Framed<Splice<Channel<Bytes>, Channel<Bytes>>, DelimiterCodec>>();
}

#[cfg(feature = "udp")]
#[test]
fn udp_types_are_send_and_sync() {
    use weir::udp::{Datagram, DatagramTooLarge, SocketOptions, UdpSocket};

    // A socket is a shared handle: one task can take while another puts.
    send_sync::<UdpSocket>();
    send_sync::<Datagram>();
    send_sync::<DatagramTooLarge>();
    send_sync::<SocketOptions>();
    send_sync::<Deferred<UdpSocket>>();
}
