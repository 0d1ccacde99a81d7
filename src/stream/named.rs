//! `named`: a pass-through stage that labels its place in the stream graph.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::{Description, Edge, Node, Vertex};
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::named`](super::SourceExt::named).
    #[must_use = "sources do nothing unless polled"]
    pub struct Named<S> {
        #[pin]
        upstream: S,
        done: bool,
        stage: Stage,
        // The labelled view of `stage` that the graph shows.
        node: Node,
    }
}

impl<S: Source> Named<S> {
    pub(super) fn new(mut upstream: S, label: String) -> Self {
        upstream.release_put_role();
        let stage = Stage::root("named");
        let node = Node::new(Arc::new(Labelled {
            inner: stage.node(),
            label,
        }));
        upstream.node().link(Some("named".to_string()), &node);
        Named {
            upstream,
            done: false,
            stage,
            node,
        }
    }

    /// The label given to this stage.
    pub fn label(&self) -> String {
        self.node.description().label.unwrap_or_default()
    }
}

impl<S: Source> futures_core::Stream for Named<S> {
    type Item = S::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match ready!(this.upstream.as_mut().poll_next(cx)) {
            Some(item) => Poll::Ready(Some(item)),
            None => {
                *this.done = true;
                this.stage.finish_like(&*this.upstream);
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.upstream.size_hint()
        }
    }
}

impl<S: Source> Source for Named<S> {
    fn node(&self) -> Node {
        self.node.clone()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.upstream.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }

    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<S::Item>,
    ) -> Poll<bool> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(false);
        }
        let more = ready!(this.upstream.as_mut().poll_next_batch(cx, limit, out));
        if !more {
            *this.done = true;
            this.stage.finish_like(&*this.upstream);
        }
        Poll::Ready(more)
    }
}

impl<S: fmt::Debug> fmt::Debug for Named<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Named")
            .field("upstream", &self.upstream)
            .field("label", &self.node.description().label)
            .field("done", &self.done)
            .finish()
    }
}

/// The stage's vertex as the graph sees it: the stage's own state and edges, plus the label.
struct Labelled {
    inner: Node,
    label: String,
}

impl Vertex for Labelled {
    fn description(&self) -> Description {
        let mut description = self.inner.description();
        description.label = Some(self.label.clone());
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.inner.downstream()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.inner.link(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.inner.unlink(target);
    }

    fn connector_slot(&self) -> Option<&super::graph::ConnectorSlot> {
        self.inner.vertex().connector_slot()
    }
}
