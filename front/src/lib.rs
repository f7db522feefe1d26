//! The browser bundle: hydrates the server-rendered page with the same `App` the server rendered.

// The typed views of `app` are laid out here, where the bundle is linked; they nest deeply.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
