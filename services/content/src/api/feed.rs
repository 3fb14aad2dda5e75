//! SearchContent (full text, public + own, ranked) and ListPublicContent
//! (newest or most liked; anonymous callers allowed).

use jazz_contract::jazz::content::v1::*;
use jazz_platform::Principal;
use jazz_platform::ids::to_api;
use uuid::Uuid;

use super::content::ContentApi;
use super::library::render;
use super::pages;
use crate::domain::fields;
use crate::domain::filter::Filter;
use crate::error::ContentError;
use crate::store::content::{self, FeedCursor};

/// `SearchContent`.
pub async fn search(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: SearchContentRequest,
) -> Result<SearchContentResponse, ContentError> {
    let SearchContentRequest { query, filter, view, page_size, page_token } = req;
    let text = fields::query(&query)?;
    let filter = Filter::parse(filter.as_ref()).map_err(ContentError::Invalid)?;
    let size = jazz_platform::fields::page_size(page_size)?;
    let binding = format!("SearchContent:{}:{text}:{}", to_api(me), filter.binding());
    let after = match pages::pair_cursor(api, &binding, &page_token)? {
        Some((rank, id)) => Some((rank.parse::<f32>().map_err(|_| ContentError::InvalidPageToken)?, id)),
        None => None,
    };
    let mut conn = api.context.pool.get().await?;
    let mut rows = content::search(&mut conn, me, &text, &filter, after, size + 1).await?;
    let next_page_token = pages::next(&mut rows, size, |(item, rank)| {
        api.pages.encode(&binding, &[rank.to_string(), to_api(item.row.id)])
    });
    let items: Vec<_> = rows.iter().map(|(item, _)| item.clone()).collect();
    let contents = render(&mut conn, &items, crate::api::convert::is_full(view, false)).await?;
    let results = contents
        .into_iter()
        .zip(rows.iter())
        .map(|(content, (_, rank))| SearchResult { content: Some(content), rank: f64::from(*rank) })
        .collect();
    Ok(SearchContentResponse { results, next_page_token })
}

/// `ListPublicContent`; `me` is `None` for an anonymous caller.
pub async fn list_public(
    api: &ContentApi,
    me: Option<Uuid>,
    req: ListPublicContentRequest,
) -> Result<ListPublicContentResponse, ContentError> {
    let ListPublicContentRequest { order, filter, view, page_size, page_token } = req;
    let most_liked = match PublicContentOrder::try_from(order) {
        Ok(PublicContentOrder::Unspecified | PublicContentOrder::Newest) => false,
        Ok(PublicContentOrder::MostLiked) => true,
        Err(_) => return Err(ContentError::field("order", "is not a known order")),
    };
    let filter = Filter::parse(filter.as_ref()).map_err(ContentError::Invalid)?;
    let size = jazz_platform::fields::page_size(page_size)?;
    // The feed is the same for everyone, so its tokens are bound to the
    // order and filter only.
    let binding = format!("ListPublicContent:{most_liked}:{}", filter.binding());
    let after = if most_liked {
        match pages::pair_cursor(api, &binding, &page_token)? {
            Some((likes, id)) => {
                Some(FeedCursor::MostLiked(likes.parse().map_err(|_| ContentError::InvalidPageToken)?, id))
            }
            None => None,
        }
    } else {
        pages::time_cursor(api, &binding, &page_token)?.map(|(at, id)| FeedCursor::Newest(at, id))
    };
    let viewer = me.unwrap_or(Uuid::nil());
    let mut conn = api.context.pool.get().await?;
    let mut rows = content::list_public(&mut conn, viewer, &filter, most_liked, after, size + 1).await?;
    let next_page_token = pages::next(&mut rows, size, |last| {
        if most_liked {
            api.pages.encode(&binding, &[last.row.likes.to_string(), to_api(last.row.id)])
        } else {
            pages::encode_time(api, &binding, last.row.created_at, last.row.id)
        }
    });
    let contents = render(&mut conn, &rows, crate::api::convert::is_full(view, false)).await?;
    Ok(ListPublicContentResponse { contents, next_page_token })
}
