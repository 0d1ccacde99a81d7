//! `zip`: wait for several deferreds; the first error wins at once.

use std::sync::{Arc, Mutex, PoisonError};

use super::Deferred;

/// Tuples of deferreds that [`zip`] can wait for: `(Deferred<A, E>, Deferred<B, E>, ...)`, up to
/// twelve, all with the same error type.
pub trait Zip {
    /// The tuple of values.
    type Output;
    /// The shared error type.
    type Error;

    /// Waits for every deferred in the tuple; see [`zip`].
    fn zip(self) -> Deferred<Self::Output, Self::Error>;
}

/// A deferred of the tuple of all the values, realized as soon as the last one arrives, or with
/// the first error as soon as any deferred fails.
///
/// # Examples
///
/// ```
/// use weir::{deferred, Deferred, Error};
///
/// let a = Deferred::<u32>::new();
/// let b = Deferred::<&str>::succeeded("b");
/// let both = deferred::zip((a.clone(), b));
/// assert!(!both.is_realized());
/// a.success(1);
/// assert_eq!(both.wait().unwrap(), (1, "b"));
///
/// let failing = deferred::zip((Deferred::<u32>::new(), Deferred::<u32>::failed(Error::cancelled())));
/// assert!(failing.wait().unwrap_err().is_cancelled());
/// ```
pub fn zip<Z: Zip>(deferreds: Z) -> Deferred<Z::Output, Z::Error> {
    deferreds.zip()
}

/// A deferred of every value in order, realized when the last arrives, or with the first error
/// as soon as any deferred fails. An empty input gives an empty vector at once.
///
/// # Examples
///
/// ```
/// use weir::{deferred, Deferred};
///
/// let parts: Vec<Deferred<u32>> = (0..4).map(Deferred::succeeded).collect();
/// assert_eq!(deferred::zip_all(parts).wait().unwrap(), vec![0, 1, 2, 3]);
/// assert!(deferred::zip_all(Vec::<Deferred<u32>>::new()).wait().unwrap().is_empty());
/// ```
pub fn zip_all<T, E, I>(deferreds: I) -> Deferred<Vec<T>, E>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Deferred<T, E>>,
{
    let deferreds: Vec<_> = deferreds.into_iter().collect();
    if deferreds.is_empty() {
        return Deferred::succeeded(Vec::new());
    }
    let out = Deferred::new();
    let slots: Vec<Option<T>> = deferreds.iter().map(|_| None).collect();
    let state = Arc::new(Mutex::new((slots, deferreds.len())));
    for (index, d) in deferreds.into_iter().enumerate() {
        let (state, realizer) = (state.clone(), out.realizer());
        d.on_realized(move |outcome| match outcome {
            Err(error) => {
                realizer.error(error);
            }
            Ok(value) => {
                let mut guard = state.lock().unwrap_or_else(PoisonError::into_inner);
                let (slots, remaining) = &mut *guard;
                slots[index] = Some(value);
                *remaining -= 1;
                if *remaining == 0 {
                    let values = std::mem::take(slots).into_iter().flatten().collect();
                    drop(guard);
                    realizer.success(values);
                }
            }
        });
    }
    out
}

macro_rules! zip_tuple {
    ($count:expr; $($T:ident $index:tt),+) => {
        impl<E, $($T),+> Zip for ($(Deferred<$T, E>,)+)
        where
            E: Send + 'static,
            $($T: Send + 'static),+
        {
            type Output = ($($T,)+);
            type Error = E;

            #[allow(non_snake_case, reason = "type names double as slot names")]
            fn zip(self) -> Deferred<Self::Output, E> {
                fn take_all<$($T),+>(slots: &mut ($(Option<$T>,)+)) -> Option<($($T,)+)> {
                    match ($(slots.$index.take(),)+) {
                        ($(Some($T),)+) => Some(($($T,)+)),
                        _ => None,
                    }
                }

                let out = Deferred::new();
                let state = Arc::new(Mutex::new((($(None::<$T>,)+), $count)));
                $(
                    let (state_for, realizer) = (state.clone(), out.realizer());
                    self.$index.on_realized(move |outcome| match outcome {
                        Err(error) => {
                            realizer.error(error);
                        }
                        Ok(value) => {
                            let mut guard = state_for.lock().unwrap_or_else(PoisonError::into_inner);
                            guard.0.$index = Some(value);
                            guard.1 -= 1;
                            if guard.1 == 0 {
                                if let Some(values) = take_all(&mut guard.0) {
                                    drop(guard);
                                    realizer.success(values);
                                }
                            }
                        }
                    });
                )+
                out
            }
        }
    };
}

zip_tuple!(1; A 0);
zip_tuple!(2; A 0, B 1);
zip_tuple!(3; A 0, B 1, C 2);
zip_tuple!(4; A 0, B 1, C 2, D 3);
zip_tuple!(5; A 0, B 1, C 2, D 3, F 4);
zip_tuple!(6; A 0, B 1, C 2, D 3, F 4, G 5);
zip_tuple!(7; A 0, B 1, C 2, D 3, F 4, G 5, H 6);
zip_tuple!(8; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);
zip_tuple!(9; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8);
zip_tuple!(10; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9);
zip_tuple!(11; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10);
zip_tuple!(12; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// A deferred of both values; the first error wins. Shorthand for [`zip`] of a pair.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = weir::Deferred::<u8>::succeeded(1).zip(weir::Deferred::succeeded('x'));
    /// assert_eq!(d.wait().unwrap(), (1, 'x'));
    /// ```
    pub fn zip<U: Send + 'static>(self, other: Deferred<U, E>) -> Deferred<(T, U), E> {
        zip((self, other))
    }
}
