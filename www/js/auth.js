// The dashboard's token: kept in localStorage, taken from the one-time login link (#token=...), or pasted.

const STORAGE_KEY = "homelab-hub.token";

export function storedToken() {
  return localStorage.getItem(STORAGE_KEY);
}

export function storeToken(token) {
  localStorage.setItem(STORAGE_KEY, token);
}

export function forgetToken() {
  localStorage.removeItem(STORAGE_KEY);
}

/** The code of a login link (`/#token=CODE`), removed from the address bar so it is not bookmarked. */
export function takeLinkCode() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

/**
 * Exchange a login link's one-time code for a long-lived token (hub/api/control_routes.py `redeem`).
 * Returns null when the hub refuses the code (wrong or already used).
 */
export async function redeemCode(code) {
  const response = await fetch("/api/hub/auth/redeem", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  if (response.status === 401 || response.status === 400) return null;
  if (!response.ok) throw new Error(`The hub answered ${response.status} to the login link.`);
  return (await response.json()).access_token;
}
