use std::collections::HashSet;
use std::marker::PhantomData;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use pos_http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::Client;
use crate::entity::{Entity, EntityKey, WritableEntity, to_checked_json};
use crate::error::{Error, InvalidInput};
use crate::query::{Filter, Literal, Query};
use crate::values::ETag;

/// What [`EntitySet::create_once`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome<E> {
    /// The entity was created by this call (possibly recovered after a lost response).
    Created(E),
    /// An entity with that key already existed; nothing was created.
    AlreadyExisted(E),
}

impl<E> CreateOutcome<E> {
    /// The entity, either way.
    pub fn into_inner(self) -> E {
        match self {
            CreateOutcome::Created(e) | CreateOutcome::AlreadyExisted(e) => e,
        }
    }
    /// Whether this call created it.
    pub fn was_created(&self) -> bool {
        matches!(self, CreateOutcome::Created(_))
    }
}

/// One page of a list, with the link to the next page (a resumable cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<E> {
    /// The entities of this page.
    pub items: Vec<E>,
    /// `@odata.nextLink`, when more pages follow; pass it to [`EntitySet::resume`] to continue.
    pub next_link: Option<String>,
}

impl<E: DeserializeOwned> Page<E> {
    /// Decodes a collection response body (`{"value": [...], "@odata.nextLink": ...}`), as the
    /// list calls do; `null` for `value` is an empty page.
    pub fn from_json(body: &[u8]) -> Result<Page<E>, serde_json::Error> {
        let body: PageBody<E> = serde_json::from_slice(body)?;
        Ok(Page {
            items: body.value,
            next_link: body.next_link,
        })
    }
}

#[derive(Deserialize)]
#[serde(bound = "E: DeserializeOwned")]
struct PageBody<E> {
    #[serde(default = "Vec::new", deserialize_with = "crate::values::null_default")]
    value: Vec<E>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// A typed handle to one entity set (`companies({id})/customers`...).
pub struct EntitySet<E> {
    client: Client,
    parent: String,
    name: String,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for EntitySet<E> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            parent: self.parent.clone(),
            name: self.name.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for EntitySet<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntitySet")
            .field("path", &self.path())
            .finish()
    }
}

enum Next {
    First(String),
    Link(Url),
    Repeated(String),
    Done,
}

struct PagingState {
    client: Client,
    next: Next,
    page_size: u32,
    seen: HashSet<String>,
}

impl<E> EntitySet<E> {
    pub(crate) fn new(client: Client, parent: String, name: String) -> Self {
        Self {
            client,
            parent,
            name,
            _entity: PhantomData,
        }
    }

    /// The path of the set, relative to the environment root (`api/v2.0/companies(…)/customers`).
    pub fn path(&self) -> String {
        format!("{}/{}", self.parent, self.name)
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn entity_path(&self, key: &dyn EntityKey) -> String {
        format!("{}({})", self.path(), key.key_segment())
    }

    /// A related set below one entity (`salesOrders({id})/salesOrderLines`).
    pub fn related<R>(&self, key: &dyn EntityKey, name: &str) -> EntitySet<R> {
        EntitySet::new(self.client.clone(), self.entity_path(key), name.to_owned())
    }
}

impl<E: Entity> EntitySet<E> {
    /// All entities matching `query`, page by page: follows `@odata.nextLink` verbatim with
    /// `Prefer: odata.maxpagesize`, and ends with [`Error::RepeatedNextLink`] if the server sends
    /// a link it already sent.
    pub fn list(&self, query: Query) -> BoxStream<'static, Result<E, Error>> {
        self.pages(query)
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Like [`EntitySet::list`], one [`Page`] at a time.
    pub fn pages(&self, query: Query) -> BoxStream<'static, Result<Page<E>, Error>> {
        let page_size = query
            .requested_page_size()
            .unwrap_or_else(|| self.client.page_size())
            .clamp(1, 20_000);
        let qs = query.to_query_string();
        let first = if qs.is_empty() {
            self.path()
        } else {
            format!("{}?{qs}", self.path())
        };
        Self::page_stream(self.client.clone(), Next::First(first), page_size)
    }

    /// Continues a listing from a stored `@odata.nextLink`.
    pub fn resume(&self, next_link: &str) -> BoxStream<'static, Result<Page<E>, Error>> {
        match Url::parse(next_link) {
            Ok(url) => Self::page_stream(
                self.client.clone(),
                Next::Link(url),
                self.client.page_size(),
            ),
            Err(e) => stream::once(async move {
                Err(Error::InvalidInput(InvalidInput::Other(format!(
                    "invalid next link: {e}"
                ))))
            })
            .boxed(),
        }
    }

    fn page_stream(
        client: Client,
        next: Next,
        page_size: u32,
    ) -> BoxStream<'static, Result<Page<E>, Error>> {
        let state = PagingState {
            client,
            next,
            page_size,
            seen: HashSet::new(),
        };
        stream::try_unfold(state, |mut st| async move {
            let prefer = format!("odata.maxpagesize={}", st.page_size);
            let req = match std::mem::replace(&mut st.next, Next::Done) {
                Next::Done => return Ok(None),
                Next::Repeated(link) => return Err(Error::RepeatedNextLink(link)),
                Next::First(path_and_query) => {
                    let (path, qs) = path_and_query
                        .split_once('?')
                        .unwrap_or((path_and_query.as_str(), ""));
                    st.client.http().get(path).raw_query(qs)
                }
                Next::Link(url) => {
                    st.seen.insert(url.to_string());
                    st.client.http().request_url(Method::GET, url)
                }
            };
            let resp = st.client.read(req).header("Prefer", &prefer).send().await?;
            let body: PageBody<E> = resp.json()?;
            if let Some(link) = &body.next_link {
                let url = Url::parse(link).map_err(|e| Error::Decode {
                    path: "@odata.nextLink".into(),
                    message: e.to_string(),
                })?;
                // The page itself is good; the loop is reported on the next poll.
                st.next = if st.seen.contains(url.as_str()) {
                    Next::Repeated(link.clone())
                } else {
                    Next::Link(url)
                };
            }
            Ok(Some((
                Page {
                    items: body.value,
                    next_link: body.next_link,
                },
                st,
            )))
        })
        .boxed()
    }

    /// Collects every entity matching `query`.
    pub async fn list_all(&self, query: Query) -> Result<Vec<E>, Error> {
        self.list(query).try_collect().await
    }

    /// Bulk key lookup: every entity whose `field` equals one of `values`, read with
    /// `field eq 'a' or field eq 'b' ...` filters in chunks of `chunk_size` values (one request
    /// per chunk, plus paging). `base` adds `$select`/`$expand` (its filter is and-ed in).
    pub async fn lookup<V: Into<Literal>>(
        &self,
        field: &str,
        values: impl IntoIterator<Item = V>,
        chunk_size: usize,
        base: Query,
    ) -> Result<Vec<E>, Error> {
        let mut out = Vec::new();
        for chunk in Filter::any_of_chunked(field, values, chunk_size) {
            let filter = match base.filter_expr() {
                Some(f) => f.clone().and(chunk),
                None => chunk,
            };
            let mut s = self.list(base.clone().filter(filter));
            while let Some(e) = s.next().await {
                out.push(e?);
            }
        }
        Ok(out)
    }

    /// One entity by key.
    pub async fn get(&self, id: &E::Id) -> Result<E, Error> {
        self.get_with(id, Query::new()).await
    }

    /// One entity by key, with `$select`/`$expand`.
    pub async fn get_with(&self, id: &E::Id, query: Query) -> Result<E, Error> {
        let req = self
            .client
            .http()
            .get(&self.entity_path(id))
            .raw_query(&query.to_query_string());
        let resp = self.client.read(req).send().await?;
        Ok(resp.json()?)
    }
}

impl<E: WritableEntity> EntitySet<E> {
    /// Creates an entity (`POST`). Maximum lengths are checked first. Never retried blindly: on a
    /// timeout or lost response, check for the entity (by number or external document number)
    /// before repeating.
    pub async fn create(&self, input: &E::Input) -> Result<E, Error> {
        self.create_with(input, Query::new()).await
    }

    /// Creates an entity; `query` may `$expand` related entities in the response (deep insert).
    pub async fn create_with(&self, input: &E::Input, query: Query) -> Result<E, Error> {
        let body = to_checked_json::<E>(input)?;
        let resp = self
            .client
            .http()
            .post(&self.path())
            .raw_query(&query.to_query_string())
            .json(&body)
            .send()
            .await?;
        Ok(resp.json()?)
    }

    /// Creates an entity unless one with `key_field eq key_value` exists (for sales documents
    /// the external document number, for master data the number): looks first, creates, and if
    /// the create failed in a way that may still have committed it (timeout, lost response),
    /// looks again before reporting the error. Never creates twice.
    pub async fn create_once(
        &self,
        key_field: &str,
        key_value: &str,
        input: &E::Input,
    ) -> Result<CreateOutcome<E>, Error> {
        let find = || async {
            let q = Query::new().filter(crate::query::Field::new(key_field).eq(key_value));
            let mut s = self.list(q);
            s.next().await.transpose()
        };
        if let Some(existing) = find().await? {
            return Ok(CreateOutcome::AlreadyExisted(existing));
        }
        match self.create(input).await {
            Ok(e) => Ok(CreateOutcome::Created(e)),
            Err(err) if err.may_have_reached_server() => match find().await {
                Ok(Some(e)) => Ok(CreateOutcome::Created(e)),
                _ => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    /// Updates an entity (`PATCH` with `If-Match: etag`); returns it with its new ETag.
    /// A stale ETag is [`Error::Conflict`].
    pub async fn update(&self, id: &E::Id, etag: &ETag, input: &E::Input) -> Result<E, Error> {
        let body = to_checked_json::<E>(input)?;
        let resp = self
            .client
            .http()
            .patch(&self.entity_path(id))
            .header("If-Match", etag.as_str())
            .json(&body)
            .send()
            .await?;
        Ok(resp.json()?)
    }

    /// Updates an entity read earlier, using its id and ETag.
    pub async fn update_entity(&self, entity: &E, input: &E::Input) -> Result<E, Error> {
        let (id, etag) = id_and_etag(entity)?;
        self.update(&id, &etag, input).await
    }

    /// Deletes an entity; `etag` `None` sends `If-Match: *`.
    pub async fn delete(&self, id: &E::Id, etag: Option<&ETag>) -> Result<(), Error> {
        let any = ETag::any();
        self.client
            .http()
            .delete(&self.entity_path(id))
            .header("If-Match", etag.unwrap_or(&any).as_str())
            .send()
            .await?;
        Ok(())
    }
}

pub(crate) fn id_and_etag<E: Entity>(entity: &E) -> Result<(E::Id, ETag), Error> {
    let id = entity
        .entity_id()
        .ok_or_else(|| InvalidInput::Other("entity has no id (was it $select-ed?)".into()))?;
    let etag = entity
        .etag()
        .cloned()
        .ok_or_else(|| InvalidInput::Other("entity has no @odata.etag".into()))?;
    Ok((id, etag))
}
