//! Public types are Send and Sync where they should be.

use weir::deferred::{AlreadyRealized, Loop, Realizer, WaitTimeout};
use weir::runtime::{Interval, Sleep, Task, Timeout};
use weir::{Deferred, Error};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

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
