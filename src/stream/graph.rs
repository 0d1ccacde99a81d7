//! Introspection: what each stream reports about itself, the edges between streams, and a
//! renderer of the graph as text or Graphviz DOT.

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::{self, Write};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// A snapshot of one stream's state: Manifold's `description`.
///
/// # Examples
///
/// ```
/// use weir::stream::Channel;
///
/// let s = Channel::<u8>::new(4);
/// let d = s.description();
/// assert_eq!(d.kind, "stream");
/// assert_eq!(d.buffer_capacity, Some(4));
/// assert_eq!(d.buffer_size, Some(0));
/// assert!(!d.closed && !d.drained && !d.permanent);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Description {
    /// What kind of stream: `stream`, `map`, `filter`, `splice`, `iter`, ...
    pub kind: Cow<'static, str>,
    /// A label given by the user (a stream builder's `description`, a `pipeline!` stage name).
    pub label: Option<String>,
    /// Messages buffered now, for streams with a buffer.
    pub buffer_size: Option<usize>,
    /// Messages (or metric units) the buffer holds before puts wait.
    pub buffer_capacity: Option<usize>,
    /// Puts waiting for room.
    pub pending_puts: usize,
    /// Takes waiting for a message.
    pub pending_takes: usize,
    /// No more puts accepted.
    pub closed: bool,
    /// Closed and empty: nothing more will come out.
    pub drained: bool,
    /// Ignores `close`.
    pub permanent: bool,
    /// Anything else the stream wants to show (a network adapter's connection state, say).
    pub extra: Vec<(Cow<'static, str>, String)>,
}

impl Description {
    /// A description of the given kind with every other field empty.
    pub fn new(kind: impl Into<Cow<'static, str>>) -> Self {
        Description {
            kind: kind.into(),
            ..Description::default()
        }
    }

    /// One line: kind, label, then the fields that are set.
    fn summary(&self) -> String {
        let mut line = self.kind.to_string();
        if let Some(label) = &self.label {
            let _ = write!(line, " \"{label}\"");
        }
        if let (Some(size), Some(capacity)) = (self.buffer_size, self.buffer_capacity) {
            let _ = write!(line, " buffer={size}/{capacity}");
        }
        if self.pending_puts > 0 {
            let _ = write!(line, " pending_puts={}", self.pending_puts);
        }
        if self.pending_takes > 0 {
            let _ = write!(line, " pending_takes={}", self.pending_takes);
        }
        for (flag, set) in [
            ("permanent", self.permanent),
            ("closed", self.closed),
            ("drained", self.drained),
        ] {
            if set {
                let _ = write!(line, " {flag}");
            }
        }
        for (key, value) in &self.extra {
            let _ = write!(line, " {key}={value}");
        }
        line
    }
}

/// What a node of the stream graph can tell: implemented by every weir stream's shared state.
pub trait Vertex: Send + Sync {
    /// The node's current state.
    fn description(&self) -> Description;
    /// The node's outgoing edges.
    fn edges(&self) -> Vec<Edge>;
    /// Records an outgoing edge (weir calls this when it connects or wraps the stream). Vertices
    /// that keep no edges may ignore it.
    fn link(&self, description: Option<String>, target: &Node) {
        let _ = (description, target);
    }
    /// Forgets an outgoing edge.
    fn unlink(&self, target: &Node) {
        let _ = target;
    }
    /// Where [`connect`](super::connect) keeps the fan-out state of a source with this node, so
    /// that a second `connect` of the same source joins the first one's task without a global
    /// map. Vertices without one (the default) fan out through a slower shared map.
    #[doc(hidden)]
    fn connector_slot(&self) -> Option<&ConnectorSlot> {
        None
    }
}

/// The fan-out state of [`connect`](super::connect) for one source, kept on its vertex.
#[doc(hidden)]
#[derive(Default)]
pub struct ConnectorSlot {
    pub(crate) connector: Mutex<Option<Weak<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for ConnectorSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorSlot").finish_non_exhaustive()
    }
}

/// A handle on one node of the stream graph, for walking it.
///
/// Every weir source and sink has one ([`Source::node`](super::Source::node)). Edges go the way
/// messages flow: from a source to what it is connected to ([`connect`](super::connect)) and
/// from a source to the combinators reading it.
#[derive(Clone)]
pub struct Node {
    vertex: Arc<dyn Vertex>,
}

/// An edge of the stream graph: where messages go next, and how.
#[derive(Clone, Debug)]
pub struct Edge {
    /// The connection's description (`connect` options), or the combinator's name.
    pub description: Option<String>,
    /// Where the messages go.
    pub target: Node,
}

impl Node {
    /// Wraps a vertex.
    pub fn new(vertex: Arc<dyn Vertex>) -> Self {
        Node { vertex }
    }

    /// The node's current state.
    pub fn description(&self) -> Description {
        self.vertex.description()
    }

    /// The node's outgoing edges, now.
    pub fn downstream(&self) -> Vec<Edge> {
        self.vertex.edges()
    }

    pub(crate) fn link(&self, description: Option<String>, target: &Node) {
        self.vertex.link(description, target);
    }

    pub(crate) fn unlink(&self, target: &Node) {
        self.vertex.unlink(target);
    }

    /// The vertex's fan-out slot, if it keeps one.
    pub(crate) fn with_connector_slot<R>(&self, f: impl FnOnce(Option<&ConnectorSlot>) -> R) -> R {
        f(self.vertex.connector_slot())
    }

    pub(crate) fn vertex(&self) -> &dyn Vertex {
        &*self.vertex
    }

    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.vertex) as *const () as usize
    }

    /// Every node reachable from this one, this one first, breadth first, each once.
    fn reachable(&self) -> Vec<(Node, Vec<Edge>)> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([self.clone()]);
        let mut out = Vec::new();
        while let Some(node) = queue.pop_front() {
            if !seen.insert(node.id()) {
                continue;
            }
            let edges = node.downstream();
            queue.extend(edges.iter().map(|e| e.target.clone()));
            out.push((node, edges));
        }
        out
    }

    /// The graph reachable from this node as indented text, one node per line.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, ConnectOptions, connect};
    ///
    /// let a = Channel::<u8>::new(1);
    /// let b = Channel::<u8>::new(2);
    /// connect(a.clone(), b.clone(), ConnectOptions::new().description("a to b"));
    /// let text = a.node().render_text();
    /// assert!(text.contains("stream buffer=0/1"), "{text}");
    /// assert!(text.contains("-[a to b]-> stream buffer=0/2"), "{text}");
    /// # a.close();
    /// ```
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let mut seen = HashSet::new();
        self.render_text_into(&mut out, 0, None, &mut seen);
        out
    }

    fn render_text_into(
        &self,
        out: &mut String,
        depth: usize,
        via: Option<&str>,
        seen: &mut HashSet<usize>,
    ) {
        let indent = "  ".repeat(depth);
        let arrow = match via {
            Some(label) => format!("-[{label}]-> "),
            None if depth > 0 => "--> ".to_string(),
            None => String::new(),
        };
        let _ = write!(out, "{indent}{arrow}{}", self.description().summary());
        if !seen.insert(self.id()) {
            out.push_str(" (see above)\n");
            return;
        }
        out.push('\n');
        for edge in self.downstream() {
            edge.target
                .render_text_into(out, depth + 1, edge.description.as_deref(), seen);
        }
    }

    /// The graph reachable from this node in Graphviz DOT.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, ConnectOptions, connect};
    ///
    /// let a = Channel::<u8>::new(1);
    /// // `b` is kept: a sink nobody can take from ends the connection into it.
    /// let b = Channel::<u8>::new(1);
    /// connect(a.clone(), b.clone(), ConnectOptions::new());
    /// let dot = a.node().render_dot();
    /// assert!(dot.starts_with("digraph weir {"));
    /// assert!(dot.contains("n0 -> n1"));
    /// # a.close();
    /// # drop(b);
    /// ```
    pub fn render_dot(&self) -> String {
        let nodes = self.reachable();
        let index: HashMap<usize, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (node, _))| (node.id(), i))
            .collect();
        let mut out = String::from("digraph weir {\n  rankdir=LR;\n");
        for (i, (node, _)) in nodes.iter().enumerate() {
            let label = node.description().summary().replace('"', "\\\"");
            let _ = writeln!(out, "  n{i} [shape=box, label=\"{label}\"];");
        }
        for (i, (_, edges)) in nodes.iter().enumerate() {
            for edge in edges {
                let Some(j) = index.get(&edge.target.id()) else {
                    continue;
                };
                match &edge.description {
                    Some(label) => {
                        let label = label.replace('"', "\\\"");
                        let _ = writeln!(out, "  n{i} -> n{j} [label=\"{label}\"];");
                    }
                    None => {
                        let _ = writeln!(out, "  n{i} -> n{j};");
                    }
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Node").field(&self.description()).finish()
    }
}

/// The outgoing edges of a vertex, held weakly so the graph never keeps a stream alive.
#[derive(Default)]
pub(crate) struct Edges {
    edges: Mutex<Vec<WeakEdge>>,
}

/// An edge's description and its target, held weakly.
type WeakEdge = (Option<String>, Weak<dyn Vertex>);

impl Edges {
    /// The edges of a duplex: to its `sink` and `source` halves, then the recorded ones.
    pub(crate) fn with_halves(&self, sink: &Node, source: &Node) -> Vec<Edge> {
        let mut edges = vec![
            Edge {
                description: Some("sink".to_string()),
                target: sink.clone(),
            },
            Edge {
                description: Some("source".to_string()),
                target: source.clone(),
            },
        ];
        edges.extend(self.snapshot());
        edges
    }

    pub(crate) fn add(&self, description: Option<String>, target: &Node) {
        let mut edges = self.edges.lock().unwrap_or_else(PoisonError::into_inner);
        edges.retain(|(_, weak)| weak.strong_count() > 0);
        edges.push((description, Arc::downgrade(&target.vertex)));
    }

    pub(crate) fn remove(&self, target: &Node) {
        let mut edges = self.edges.lock().unwrap_or_else(PoisonError::into_inner);
        edges.retain(|(_, weak)| {
            weak.strong_count() > 0
                && !std::ptr::addr_eq(weak.as_ptr(), Arc::as_ptr(&target.vertex))
        });
    }

    pub(crate) fn snapshot(&self) -> Vec<Edge> {
        let edges = self.edges.lock().unwrap_or_else(PoisonError::into_inner);
        edges
            .iter()
            .filter_map(|(description, weak)| {
                Some(Edge {
                    description: description.clone(),
                    target: Node {
                        vertex: weak.upgrade()?,
                    },
                })
            })
            .collect()
    }
}
