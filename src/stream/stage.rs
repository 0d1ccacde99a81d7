//! What every lazy combinator shares: its node in the graph and the record of how it ended.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Deferred, Error};

use super::graph::{ConnectorSlot, Description, Edge, Edges, Node, Vertex};
use super::source::Source;

/// The bookkeeping of one combinator (or any source that is not a channel): its vertex, linked
/// from the node it reads, and its drain outcome.
#[derive(Clone)]
pub(crate) struct Stage {
    vertex: Arc<StageVertex>,
}

struct StageVertex {
    kind: Cow<'static, str>,
    drained: Deferred<(), Error>,
    /// Mirrors `drained.is_realized()` for the per-message check in `is_finished`.
    finished: AtomicBool,
    closed: AtomicBool,
    edges: Edges,
    connector: ConnectorSlot,
}

impl Stage {
    /// A stage with no upstream (a source of its own, like an iterator).
    pub(crate) fn root(kind: impl Into<Cow<'static, str>>) -> Self {
        Stage {
            vertex: Arc::new(StageVertex {
                kind: kind.into(),
                drained: Deferred::new().quiet(),
                finished: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                edges: Edges::default(),
                connector: ConnectorSlot::default(),
            }),
        }
    }

    /// A stage that owns and reads `upstream`: it gives up the upstream handle's put role (a
    /// combinator only takes, so dropping every other handle that can put closes the upstream),
    /// then links from it as [`Stage::after`] does.
    pub(crate) fn reading(kind: impl Into<Cow<'static, str>>, upstream: &mut impl Source) -> Self {
        upstream.release_put_role();
        Stage::after(kind, &upstream.node())
    }

    /// A stage reading `upstream`: linked from it in the graph, labelled with its kind.
    pub(crate) fn after(kind: impl Into<Cow<'static, str>>, upstream: &Node) -> Self {
        let kind = kind.into();
        let stage = Stage::root(kind.clone());
        upstream.link(Some(kind.into_owned()), &stage.node());
        stage
    }

    /// A stage reading several upstreams (zip, concat).
    pub(crate) fn after_all<'a>(
        kind: impl Into<Cow<'static, str>>,
        upstreams: impl IntoIterator<Item = &'a Node>,
    ) -> Self {
        let kind = kind.into();
        let stage = Stage::root(kind.clone());
        for upstream in upstreams {
            upstream.link(Some(kind.to_string()), &stage.node());
        }
        stage
    }

    pub(crate) fn node(&self) -> Node {
        Node::new(self.vertex.clone())
    }

    /// Records how the stage ended; the first outcome sticks.
    pub(crate) fn finish(&self, outcome: Result<(), Error>) {
        let _ = self.vertex.drained.try_realize(outcome);
        self.vertex.finished.store(true, Ordering::Release);
    }

    /// Ends the stage the way `upstream` ended (its drain must already be realized, as it is
    /// when its stream has returned `None`).
    pub(crate) fn finish_like(&self, upstream: &impl Source) {
        let outcome = upstream.drained().peek().unwrap_or(Ok(()));
        self.finish(outcome);
    }

    /// Ends the stage with `error` and closes `upstream`, which nobody will read any more.
    pub(crate) fn fail(&self, error: Error, upstream: &impl Source) {
        self.finish(Err(error));
        upstream.close();
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.vertex.finished.load(Ordering::Acquire)
    }

    pub(crate) fn drained(&self) -> Deferred<(), Error> {
        self.vertex.drained.clone()
    }

    pub(crate) fn mark_closed(&self) {
        self.vertex.closed.store(true, Ordering::Relaxed);
    }

    /// Closes the stage at the consumer's request: a clean end.
    pub(crate) fn close(&self) {
        self.mark_closed();
        self.finish(Ok(()));
    }
}

impl Vertex for StageVertex {
    fn description(&self) -> Description {
        let mut description = Description::new(self.kind.clone());
        description.drained = self.drained.is_realized();
        description.closed = description.drained || self.closed.load(Ordering::Relaxed);
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.snapshot()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }

    fn connector_slot(&self) -> Option<&ConnectorSlot> {
        Some(&self.connector)
    }
}
