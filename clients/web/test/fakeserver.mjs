// An in-process stand-in for the token service's /token, /revoke and /sessions,
// with rotating refresh tokens, strict reuse detection and an optional grace
// window, served through a fetch function.

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

export function jwt(claims) {
  return `${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims)}.sig`;
}

export class FakeTokenService {
  constructor({ lifetime = 60, graceMs = 0, now = Date.now } = {}) {
    this.lifetime = lifetime;
    this.graceMs = graceMs;
    this.now = now;
    this.sessions = new Map(); // sid -> {current, previous, rotatedAt, revoked, reason}
    this.access = new Map(); // access token -> sid
    this.log = []; // {path, body, headers}
    this.reuse = 0;
    this.n = 0;
    /** Set to a function(path, body) returning "drop" to lose the answer after processing, or a Response. */
    this.intercept = null;
  }

  issue(sid, scope) {
    const s = this.sessions.get(sid);
    this.n++;
    const refresh = `${sid}.r${this.n}`;
    const access = jwt({ sid, sub: "user-1", n: this.n, exp: Math.floor(this.now() / 1000) + this.lifetime });
    s.previous = s.current;
    s.current = refresh;
    s.rotatedAt = this.now();
    s.lastAnswer = { access_token: access, token_type: "Bearer", expires_in: this.lifetime, refresh_token: refresh, scope };
    this.access.set(access, sid);
    return s.lastAnswer;
  }

  activeSid(access) {
    const sid = this.access.get(access);
    const s = sid && this.sessions.get(sid);
    return s && !s.revoked ? sid : null;
  }

  get fetch() {
    return async (input, init) => {
      const req = new Request(input, init);
      const url = new URL(req.url);
      const body = req.method === "POST" ? Object.fromEntries(new URLSearchParams(await req.text())) : {};
      this.log.push({ path: url.pathname, method: req.method, body, headers: Object.fromEntries(req.headers) });
      const res = this.handle(url, req, body);
      const cut = this.intercept?.(url.pathname, body);
      if (cut === "drop") throw new TypeError("Failed to fetch");
      if (cut instanceof Response) return cut;
      return res;
    };
  }

  handle(url, req, body) {
    const json = (status, obj) => new Response(obj === undefined ? null : JSON.stringify(obj), { status, headers: { "Content-Type": "application/json" } });
    const bearer = () => this.activeSid((req.headers.get("authorization") || "").replace(/^Bearer /, ""));
    switch (url.pathname) {
      case "/token": {
        if (body.grant_type === "urn:ietf:params:oauth:grant-type:token-exchange") {
          if (!body.subject_token) return json(400, { error: "invalid_request" });
          const sid = `s${this.sessions.size + 1}`;
          this.sessions.set(sid, { revoked: false });
          return json(200, this.issue(sid, body.scope ?? ""));
        }
        if (body.grant_type === "refresh_token") {
          const sid = (body.refresh_token || "").split(".")[0];
          const s = this.sessions.get(sid);
          if (!s || s.revoked) return json(400, { error: "invalid_grant" });
          if (body.refresh_token === s.current) return json(200, this.issue(sid, s.lastAnswer.scope));
          if (body.refresh_token === s.previous && this.now() - s.rotatedAt <= this.graceMs) return json(200, s.lastAnswer);
          s.revoked = true;
          s.reason = "reuse";
          this.reuse++;
          return json(400, { error: "invalid_grant" });
        }
        return json(400, { error: "unsupported_grant_type" });
      }
      case "/revoke": {
        const s = this.sessions.get((body.token || "").split(".")[0]);
        if (s) s.revoked = true;
        return json(200);
      }
      case "/api": {
        return bearer() ? json(200, { ok: true }) : json(401, { error: "invalid_token" });
      }
    }
    if (url.pathname === "/sessions") {
      const sid = bearer();
      if (!sid) return json(401, { error: "invalid_token" });
      return json(200, { sessions: [...this.sessions].map(([id, s]) => ({ id, active: !s.revoked, current: id === sid })) });
    }
    if (url.pathname.startsWith("/sessions/") && req.method === "DELETE") {
      if (!bearer()) return json(401, { error: "invalid_token" });
      const s = this.sessions.get(decodeURIComponent(url.pathname.slice("/sessions/".length)));
      if (!s) return json(404, { error: "not_found" });
      s.revoked = true;
      return new Response(null, { status: 204 });
    }
    return json(404, { error: "not_found" });
  }
}
