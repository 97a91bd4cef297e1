//! Version-cursor paging of the lists, as a lazy [`Stream`].
//!
//! Each page is requested with `after=<cursor>`; the next cursor is the page's `version.max` (or the
//! highest item version when the envelope has none); paging stops at the first empty page. A page
//! whose data does not move the cursor forward is an [`Error::CursorNotAdvancing`], never a loop.
//!
//! Most lists are `GET` requests with the cursor in the query and answer `{"data", "version"}`.
//! The date versions read inventory differently: `POST /inventory` takes the cursor in a JSON
//! filter body (`after`, `size` up to 5,000, `sort_direction: "asc"`), `GET /inventory/{product_id}`
//! takes `page_size` up to 5,000 and `order_direction=asc`, and both answer a bare JSON array. A
//! page is read in either form whatever the request style.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::Version;
use crate::models::Versioned;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream};
use pos_http::decode_json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `{"min": .., "max": ..}` of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionRange {
    /// Lowest version in the page.
    pub min: Version,
    /// Highest version in the page: the next `after`.
    pub max: Version,
}

/// One page of a 2.0 list: `{"data": [...], "version": {"min", "max"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct Page<T> {
    /// The objects.
    #[serde(default)]
    pub data: Vec<T>,
    /// The version range, when sent (`{"min": null, "max": null}` on an empty page is `None`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "version_range_opt"
    )]
    pub version: Option<VersionRange>,
}

/// `version` of a page: `min` and `max` are `null` when the result set is empty (2026-07 spec).
fn version_range_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<VersionRange>, D::Error> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        min: Option<Version>,
        #[serde(default)]
        max: Option<Version>,
    }
    Ok(Option::<Raw>::deserialize(d)?.and_then(|r| {
        r.max.map(|max| VersionRange {
            min: r.min.unwrap_or(max),
            max,
        })
    }))
}

impl<T: Versioned> Page<T> {
    /// The page's highest version: `version.max`, or the highest item version.
    pub fn max_version(&self) -> Option<Version> {
        let items = self.data.iter().filter_map(|d| d.version()).max();
        match (self.version.map(|v| v.max), items) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A single object: `{"data": {...}}`.
///
/// The official 2.0 and 2026-07 examples of `GET /user` and `GET /users/{id}` wrap the object in a
/// one-element list (`{"data": [{...}]}`) although their schema says an object; both are accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct Single<T> {
    /// The object.
    #[serde(deserialize_with = "object_or_one_element_list")]
    pub data: T,
}

fn object_or_one_element_list<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::de::Error as _;
    // The inner path is kept in the message, as the value is decoded from a buffer.
    fn decode<T: DeserializeOwned>(v: &serde_json::Value) -> std::result::Result<T, String> {
        serde_path_to_error::deserialize(v).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }
    let value = serde_json::Value::deserialize(d)?;
    match decode(&value) {
        Ok(t) => Ok(t),
        Err(first) => match &value {
            serde_json::Value::Array(items) if items.len() == 1 => {
                decode(&items[0]).map_err(D::Error::custom)
            }
            _ => Err(D::Error::custom(first)),
        },
    }
}

/// How the pages of a list are requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `GET` with `after`, `before`, `page_size` and `deleted=true` in the query.
    Query,
    /// `GET /inventory/{product_id}` (date versions): `after`, `before`, `page_size`,
    /// `include_deleted=true` and `order_direction=asc` in the query.
    InventoryQuery,
    /// `POST /inventory` (date versions): `{after, before, size, include_deleted,
    /// sort_direction: "asc"}` and the filters in a JSON body.
    InventoryFilter,
}

/// Query of a version-cursor list; build it, then call [`ListRequest::stream`] or [`ListRequest::page`].
#[must_use]
pub struct ListRequest<T> {
    client: Client,
    path: String,
    style: Style,
    after: Version,
    before: Option<Version>,
    page_size: Option<u32>,
    default_page_size: Option<u32>,
    max_page_size: Option<u32>,
    deleted: bool,
    supports_deleted: bool,
    extra: Vec<(String, Value)>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("path", &self.path)
            .field("style", &self.style)
            .field("after", &self.after)
            .field("page_size", &self.page_size)
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for ListRequest<T> {
    fn clone(&self) -> Self {
        ListRequest {
            client: self.client.clone(),
            path: self.path.clone(),
            style: self.style,
            after: self.after,
            before: self.before,
            page_size: self.page_size,
            default_page_size: self.default_page_size,
            max_page_size: self.max_page_size,
            deleted: self.deleted,
            supports_deleted: self.supports_deleted,
            extra: self.extra.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> ListRequest<T> {
    /// The page size sent: the one asked for (capped at the endpoint's maximum) or the default.
    fn effective_page_size(&self) -> Option<u32> {
        let n = self.page_size.or(self.default_page_size)?;
        Some(self.max_page_size.map_or(n, |max| n.min(max)))
    }
}

impl<T> ListRequest<T>
where
    T: DeserializeOwned + Versioned + Send + 'static,
{
    pub(crate) fn new(client: Client, path: String, supports_deleted: bool) -> Self {
        ListRequest {
            client,
            path,
            style: Style::Query,
            after: Version(0),
            before: None,
            page_size: None,
            default_page_size: None,
            max_page_size: None,
            deleted: false,
            supports_deleted,
            extra: Vec::new(),
            _t: PhantomData,
        }
    }

    /// A list of the date versions' inventory endpoints (`style` other than [`Style::Query`]):
    /// pages of the largest size the version documents unless [`ListRequest::page_size`] says
    /// otherwise, deleted records on request.
    pub(crate) fn inventory(client: Client, path: String, style: Style) -> Self {
        let max = client.api_version().max_inventory_page();
        let mut r = Self::new(client, path, true);
        r.style = style;
        r.default_page_size = max;
        r.max_page_size = max;
        r
    }

    /// Start after this version (a cursor stored from an earlier run); default 0 = everything.
    pub fn after(mut self, version: impl Into<Version>) -> Self {
        self.after = version.into();
        self
    }

    /// Only objects with a version below this.
    pub fn before(mut self, version: impl Into<Version>) -> Self {
        self.before = Some(version.into());
        self
    }

    /// Objects per page (at most 5,000 on the date versions' inventory endpoints).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// Include deleted objects (tombstones with `deleted_at` set). Ignored by endpoints that do not
    /// support it.
    pub fn deleted(mut self, yes: bool) -> Self {
        self.deleted = yes;
        self
    }

    /// An extra filter: a query parameter, or a key of the JSON filter body.
    pub(crate) fn extra(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.push((key.to_owned(), value.into()));
        self
    }

    /// Fetches the one page after `after`.
    pub async fn page(&self) -> Result<Page<T>> {
        fetch_page(self.clone(), self.after).await
    }

    /// All objects from `after` on, paging lazily.
    pub fn stream(self) -> VersionStream<T> {
        let cursor = self.after;
        VersionStream {
            request: self,
            cursor,
            page_cursor: cursor,
            buffer: VecDeque::new(),
            in_flight: None,
            done: false,
            pages: 0,
        }
    }

    /// Collects every object (convenience for small lists).
    pub async fn all(self) -> Result<Vec<T>> {
        use futures::TryStreamExt;
        self.stream().try_collect().await
    }
}

/// A query value as text (`true`, `12`, or the string itself).
fn query_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn fetch_page<T: DeserializeOwned>(req: ListRequest<T>, after: Version) -> Result<Page<T>> {
    let size = req.effective_page_size();
    let deleted = req.deleted && req.supports_deleted;
    let http = req.client.http();
    let request = match req.style {
        Style::Query | Style::InventoryQuery => {
            let inventory = req.style == Style::InventoryQuery;
            let mut query: Vec<(String, String)> = vec![("after".into(), after.0.to_string())];
            if let Some(b) = req.before {
                query.push(("before".into(), b.0.to_string()));
            }
            if let Some(n) = size {
                query.push(("page_size".into(), n.to_string()));
            }
            if deleted {
                let key = if inventory {
                    "include_deleted"
                } else {
                    "deleted"
                };
                query.push((key.into(), "true".into()));
            }
            if inventory {
                query.push(("order_direction".into(), "asc".into()));
            }
            query.extend(req.extra.iter().map(|(k, v)| (k.clone(), query_text(v))));
            http.get(&req.path).query(&query)
        }
        Style::InventoryFilter => {
            let mut body = serde_json::Map::new();
            body.insert("after".into(), after.0.into());
            if let Some(b) = req.before {
                body.insert("before".into(), b.0.into());
            }
            if let Some(n) = size {
                body.insert("size".into(), n.into());
            }
            if deleted {
                body.insert("include_deleted".into(), true.into());
            }
            body.insert("sort_direction".into(), "asc".into());
            body.extend(req.extra.iter().cloned());
            // A read: repeating it has no effect, so it is retried like a GET.
            http.post(&req.path).json(&body).retry_safe()
        }
    };
    let response = request.send().await?;
    decode_page(&response.body)
}

/// Decodes a page sent as `{"data": [...], "version": ...}` or as a bare array.
fn decode_page<T: DeserializeOwned>(body: &[u8]) -> Result<Page<T>> {
    let bare = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    Ok(if bare {
        Page {
            data: decode_json(body)?,
            version: None,
        }
    } else {
        decode_json(body)?
    })
}

/// A lazy stream of the objects of a list, following the version cursor.
///
/// [`VersionStream::cursor`] is the resume point: every object with a version up to it has been
/// yielded. Store it and pass it to [`ListRequest::after`] next time.
#[must_use = "streams do nothing unless polled"]
pub struct VersionStream<T> {
    request: ListRequest<T>,
    cursor: Version,
    page_cursor: Version,
    buffer: VecDeque<T>,
    in_flight: Option<BoxFuture<'static, Result<Page<T>>>>,
    done: bool,
    pages: u64,
}

impl<T> std::fmt::Debug for VersionStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionStream")
            .field("path", &self.request.path)
            .field("cursor", &self.cursor)
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl<T> VersionStream<T> {
    /// The resume point: all objects up to this version have been yielded.
    pub fn cursor(&self) -> Version {
        self.cursor
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// Whether the end of the list was reached.
    pub fn is_done(&self) -> bool {
        self.done && self.buffer.is_empty()
    }
}

impl<T> Unpin for VersionStream<T> {}

impl<T> Stream for VersionStream<T>
where
    T: DeserializeOwned + Versioned + Send + 'static,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                if this.buffer.is_empty() {
                    this.cursor = this.page_cursor;
                }
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.in_flight.is_none() {
                let req = this.request.clone();
                let after = this.page_cursor;
                this.in_flight = Some(fetch_page(req, after).boxed());
            }
            let Some(fut) = this.in_flight.as_mut() else {
                continue;
            };
            let page = match fut.poll_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(p) => p,
            };
            this.in_flight = None;
            this.pages += 1;
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            };
            if page.data.is_empty() {
                this.done = true;
                continue;
            }
            let max = page.max_version();
            match max {
                Some(max) if max > this.page_cursor => {
                    this.page_cursor = max;
                    this.buffer.extend(page.data);
                }
                _ => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::CursorNotAdvancing {
                        path: this.request.path.clone(),
                        after: this.page_cursor,
                    })));
                }
            }
        }
    }
}

/// A page of `/search` results: `{"data": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub(crate) struct SearchPage<T> {
    #[serde(default)]
    pub data: Vec<T>,
}
