//! The hidden form-token field every state-changing form carries.

use leptos::prelude::*;

use crate::contract::get_session;

#[component]
pub fn FormToken() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let csrf = session.await.map(|s| s.csrf).unwrap_or_default();
                view! { <input type="hidden" name="csrf" value=csrf/> }
            })}
        </Suspense>
    }
}
