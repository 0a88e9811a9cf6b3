import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { Delegates } from '../core/approvals/seats.ts';
import { LANGUAGES, type Language } from '../core/commands.ts';
import { LANGUAGE_NAMES, type MessageKey, type Translate } from './i18n.ts';

/** What every page knows about the request: language, acting user, the path for the language links. */
export interface PageContext {
  locale: Language;
  t: Translate;
  /** The configured user the console acts as: the signed-in person, or in demo mode `?as=` / the `signoff_as` cookie. */
  as?: string;
  /** Signed in with the identity provider (the header offers sign-out). */
  signedIn?: boolean;
  /** Demo mode: the built-in demo configuration, with its "act as" picker. */
  demo?: boolean;
  /** The current path and query, for the language switch. */
  url: URL;
  /** Pending approvals shown in the header: those waiting for the acting user, or all when nobody acts. */
  pending?: number;
  /** Active delegations of the pending approvals' approvers: whose seats their delegates hold now. */
  delegates?: Delegates;
}

/**
 * Runs on every page: shows each <time> in the viewer's zone and language with a relative time
 * ("5 minutes ago"), and follows /console/events: when approvals or executions change, it fetches
 * the same URL again and swaps the header's pending count and the main part (not while someone
 * types in a field there; then once they leave it). Open <details> stay open and scrolled boxes
 * keep their place across a swap.
 */
const PAGE_SCRIPT = `
(function(){
  var lang=document.documentElement.lang||undefined;
  var abs=new Intl.DateTimeFormat(lang,{dateStyle:'medium',timeStyle:'medium'});
  var rel=window.Intl&&Intl.RelativeTimeFormat?new Intl.RelativeTimeFormat(lang,{numeric:'auto'}):null;
  var units=[['year',31536e6],['month',2592e6],['day',864e5],['hour',36e5],['minute',6e4],['second',1e3]];
  function relative(ms){
    if(!rel)return '';
    for(var i=0;i<units.length;i++){var u=units[i];if(Math.abs(ms)>=u[1]||u[0]==='second')return rel.format(Math.round(ms/u[1]),u[0]);}
  }
  function times(root){
    [].forEach.call(root.querySelectorAll('time[datetime]'),function(el){
      var d=new Date(el.getAttribute('datetime'));if(isNaN(d))return;
      var r=relative(d.getTime()-Date.now());
      el.textContent=abs.format(d)+(r?' ('+r+')':'');
      el.title=el.getAttribute('datetime');el.setAttribute('data-local','1');
    });
  }
  window.signoffTimes=times;
  times(document);setInterval(function(){times(document)},30000);
  function openTarget(){
    var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);
    if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView({block:'nearest'});}
  }
  window.addEventListener('hashchange',openTarget);openTarget();
  var zoom=1;
  document.addEventListener('click',function(e){
    var b=e.target&&e.target.closest&&e.target.closest('button[data-zoom]');if(!b)return;
    zoom=Math.max(.4,Math.min(3,zoom*(b.getAttribute('data-zoom')==='in'?1.25:.8)));
    document.documentElement.style.setProperty('--zoom',String(zoom));
  });
  if(!window.EventSource)return;
  var main=document.querySelector('main');var busy=false,again=false,seen=null;
  function typing(){var a=document.activeElement;return a&&main.contains(a)&&/^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)&&a.type!=='submit';}
  function refresh(){
    if(busy){again=true;return;}
    if(typing()){again=true;return;}
    busy=true;
    fetch(location.href,{headers:{accept:'text/html'},credentials:'same-origin'}).then(function(r){
      if(!r.ok)throw new Error(String(r.status));return r.text();
    }).then(function(html){
      var doc=new DOMParser().parseFromString(html,'text/html');
      var next=doc.querySelector('main');if(!next)return;
      if(typing()){again=true;return;}
      var open=[].map.call(main.querySelectorAll('details[open][id]'),function(d){return d.id});
      var scrolled=[].map.call(main.querySelectorAll('.graph-scroll,.table-wrap'),function(el){return [el.scrollLeft,el.scrollTop]});
      main.innerHTML=next.innerHTML;
      [].forEach.call(main.querySelectorAll('.graph-scroll,.table-wrap'),function(el,i){var at=scrolled[i];if(at){el.scrollLeft=at[0];el.scrollTop=at[1];}});
      open.forEach(function(id){var d=document.getElementById(id);if(d)d.open=true;});
      var count=document.querySelector('header .pending-count'),nc=doc.querySelector('header .pending-count');
      if(count&&nc){count.textContent=nc.textContent;count.setAttribute('data-pending',nc.getAttribute('data-pending')||'');}
      times(main);
      document.dispatchEvent(new CustomEvent('signoff:refreshed'));
    }).catch(function(){}).then(function(){busy=false;if(again){again=false;setTimeout(refresh,300);}});
  }
  main.addEventListener('focusout',function(){if(again){again=false;setTimeout(refresh,300);}});
  var source=new EventSource('/console/events');
  source.addEventListener('change',function(e){
    var data={};try{data=JSON.parse(e.data)}catch(_){}
    if(seen===null){seen=data.marker;document.documentElement.setAttribute('data-live','1');return;}
    if(data.marker!==seen){seen=data.marker;refresh();}
  });
})();
`;

const STYLE = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:.55rem 1rem;display:flex;gap:.4rem 1rem;flex-wrap:wrap;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header a[aria-current=page]{color:#fff;text-decoration:underline}
header strong{margin-right:.6rem}header form.who{display:flex;gap:.4rem;align-items:center;margin:0}header form.who button{padding:.1rem .6rem;font-size:13px}header .lang{margin-left:auto;display:flex;gap:.5rem;flex-wrap:wrap;font-size:13px}
main{padding:1rem;max-width:1150px;margin:auto}
h2{margin:.6rem 0}
.card{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:1rem;margin:0 0 1rem}
.card h3{margin:.1rem 0 .4rem}.muted{color:#667}.flash{background:#fff7d6;border-color:#e9d27a}
.standin{background:#eef6ff;border-color:#9cc3f0}.waiting{background:#fff4e5;border-color:#f0b35a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.4rem 0}dt{color:#667}dd{margin:0;word-break:break-word}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:14px}
td pre{white-space:pre-wrap;word-break:break-all;margin:0;max-height:14rem;overflow:auto;font-size:12px}
button,.button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer;color:inherit;text-decoration:none;display:inline-block}
button.approve{background:#1f7a3a;color:#fff;border-color:#1f7a3a}button.reject{background:#a12a2a;color:#fff;border-color:#a12a2a}
form.inline{display:flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:.3rem .6rem .6rem 0}
form.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.5rem;align-items:end;margin:0 0 1rem}
form.filters label{display:flex;flex-direction:column;font-size:13px;color:#556}
input[type=text],input[type=date],input[type=search],select{font:inherit;padding:.3rem;border:1px solid #aaa;border-radius:5px;max-width:100%;background:#fff}
.status{font-weight:600}.s-pending,.s-RUNNING{color:#9a6a00}.s-approved,.s-SUCCEEDED,.s-approve,.s-merged,.s-started{color:#1f7a3a}
.s-rejected,.s-reject,.s-FAILED,.s-ABORTED,.s-TIMED_OUT,.s-expired,.s-cancelled{color:#a12a2a}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
.pager{display:flex;gap:.6rem;align-items:center;margin:.6rem 0;flex-wrap:wrap}
.graph{margin:0 0 1rem;background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:.5rem;overflow-x:auto}
.graph svg{height:auto;display:block;margin:auto;max-width:none;width:calc(var(--graph-w) * var(--zoom, 1))}
.state-io h4{margin:.6rem 0 .3rem}.state-io pre{white-space:pre-wrap;word-break:break-all;margin:0;max-height:16rem;overflow:auto;font-size:12px}details.io{border-top:1px solid #e3e6ea;padding:.2rem 0}
.timeline td:nth-child(4){white-space:nowrap}
.graph .node rect{fill:#f1f3f6;stroke:#9aa3b2;stroke-width:1.2}
.graph .n-name{font-size:13px;font-weight:600;fill:#1d2330}.graph .n-type{font-size:10.5px;fill:#556}
.graph .st-visited rect{fill:#dff3e4;stroke:#1f7a3a}
.graph .st-current rect{fill:#fff0c2;stroke:#c98a00;stroke-width:2.5}
.graph .st-failed rect{fill:#fbe0e0;stroke:#a12a2a;stroke-width:2}
.graph .st-caught rect{fill:#fde9d4;stroke:#c0641a}
.graph .st-not-reached rect{fill:#fafbfc;stroke:#c9ced6;stroke-dasharray:4 3}.graph .st-not-reached text{fill:#99a}
.graph .edge{fill:none;stroke:#b9c0cb;stroke-width:1.3}.graph .edge.taken{stroke:#1d2330;stroke-width:1.8}
.graph .e-catch{stroke-dasharray:5 4}.graph .arrowhead{fill:#555}
.legend{display:flex;gap:.8rem;flex-wrap:wrap;font-size:12.5px;margin-top:.4rem;justify-content:center}
.legend i{display:inline-block;width:.9em;height:.9em;border-radius:3px;margin-right:.3em;vertical-align:-.1em;border:1px solid #9aa3b2}
.legend .st-visited i{background:#dff3e4;border-color:#1f7a3a}.legend .st-current i{background:#fff0c2;border-color:#c98a00}
.legend .st-failed i{background:#fbe0e0;border-color:#a12a2a}.legend .st-caught i{background:#fde9d4;border-color:#c0641a}
.legend .st-not-reached i{background:#fafbfc;border-style:dashed}
details summary{cursor:pointer;color:#2458b3}
.live{font-size:12.5px;color:#9a6a00}
.pending-count{background:#c98a00;color:#fff;border-radius:999px;padding:.05rem .55rem;font-size:13px}header a.pending-count{color:#fff}
.graph-tools{display:flex;gap:.4rem;justify-content:flex-end;margin:0 0 .3rem}.graph-tools button{padding:.1rem .6rem}
.graph-scroll{overflow:auto;-webkit-overflow-scrolling:touch;touch-action:pan-x pan-y pinch-zoom;max-height:80vh}
.graph .e-label{font-size:11px;fill:#445}.graph a.node{cursor:pointer}.graph a.node:focus rect,.graph a.node:hover rect{stroke-width:2.5}
details.io:target,details.io[open]{background:#fff}
@media (prefers-color-scheme:dark){
  :root{color-scheme:dark}
  body{color:#e3e6ec;background:#12151b}
  header{background:#0b0d11}
  .card,table,.graph,details.io[open]{background:#1b2029;border-color:#333b48}
  th,td{border-color:#2c3340}.muted,dt{color:#9aa3b2}
  .flash{background:#3a3210;border-color:#7a6620}.standin{background:#132a44;border-color:#2d5d92}.waiting{background:#3a2a10;border-color:#8a6420}
  button,.button,input[type=text],input[type=date],input[type=search],select,textarea{background:#232935;color:#e3e6ec;border-color:#56607a}
  details summary{color:#8fb5ff}a{color:#8fb5ff}
  .s-pending,.s-RUNNING{color:#f0c050}.s-approved,.s-SUCCEEDED,.s-approve,.s-merged,.s-started{color:#5fd38a}
  .s-rejected,.s-reject,.s-FAILED,.s-ABORTED,.s-TIMED_OUT,.s-expired,.s-cancelled{color:#ff8a8a}
  .graph .node rect{fill:#232935;stroke:#6b7588}.graph .n-name{fill:#e3e6ec}.graph .n-type,.graph .e-label{fill:#aab3c2}
  .graph .st-visited rect{fill:#173b25;stroke:#5fd38a}.graph .st-current rect{fill:#4a3a08;stroke:#f0c050}
  .graph .st-failed rect{fill:#4a1a1a;stroke:#ff8a8a}.graph .st-caught rect{fill:#4a3018;stroke:#e39a5a}
  .graph .st-not-reached rect{fill:#161a21;stroke:#444c5a}.graph .st-not-reached text{fill:#778}
  .graph .edge{stroke:#59627a}.graph .edge.taken{stroke:#e3e6ec}.graph .arrowhead{fill:#aab3c2}
}
@media (max-width:760px){
  main{padding:.6rem}.timeline td:nth-child(4){white-space:normal}
  header{padding:.5rem .6rem}header .lang{margin-left:0}
  table.stack thead{display:none}
  table.stack tr{display:block;border-bottom:1px solid #d8dce3;padding:.3rem 0}
  table.stack td{display:flex;gap:.6rem;border:0;padding:.15rem .4rem}
  table.stack td::before{content:attr(data-label);color:#667;min-width:6.5rem;flex:none}
  button,.button{padding:.55rem 1rem}
}
`;

/** Same URL with one query parameter changed. */
export function withQuery(url: URL, name: string, value: string): string {
  const next = new URL(url);
  next.searchParams.set(name, value);
  return `${next.pathname}${next.search}`;
}

/** The page frame: navigation, language switch, responsive CSS. */
export function Layout(props: {
  page: PageContext;
  title: string;
  children?: Child;
  nav: string;
  script?: string;
}) {
  const { t, locale, as, url } = props.page;
  const asQuery = as && props.page.demo ? `?as=${encodeURIComponent(as)}` : '';
  const links: Array<[string, string, string]> = [
    ['inbox', `/console${asQuery}`, t('approvals')],
    ['executions', '/console/executions', t('executions')],
    ['audit', '/console/audit', t('audit')],
  ];
  return (
    <>
      {raw('<!doctype html>')}
      <html lang={locale}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · Signoff`}</title>
          <style>{raw(STYLE)}</style>
        </head>
        <body>
          <header>
            <strong>{t('console')}</strong>
            {links.map(([key, href, label]) => (
              <a href={href} {...(key === props.nav ? { 'aria-current': 'page' } : {})}>
                {label}
              </a>
            ))}
            {props.page.pending !== undefined ? (
              <a class="pending-count" href={`/console${asQuery}`} data-pending={props.page.pending}>
                {t('pendingCount', { n: props.page.pending })}
              </a>
            ) : null}
            {props.page.signedIn && as ? (
              <form class="who" method="post" action="/console/auth/sign-out">
                <span>{t('signedInAs', { user: as })}</span> <button type="submit">{t('signOut')}</button>
              </form>
            ) : null}
            <nav class="lang" aria-label={t('language')}>
              {LANGUAGES.map((l) => (
                <a
                  href={withQuery(url, 'lang', l)}
                  lang={l}
                  {...(l === locale ? { 'aria-current': 'page' } : {})}
                >
                  {LANGUAGE_NAMES[l]}
                </a>
              ))}
            </nav>
          </header>
          <main>{props.children}</main>
          <script>{raw(PAGE_SCRIPT)}</script>
          {props.script ? <script>{raw(props.script)}</script> : null}
        </body>
      </html>
    </>
  );
}

/** Status words the page's language has a word for: approval and execution statuses. */
const STATUS_WORDS: Record<string, MessageKey> = {
  pending: 'statusPending',
  approved: 'statusApproved',
  rejected: 'statusRejected',
  expired: 'statusExpired',
  cancelled: 'statusCancelled',
  RUNNING: 'execRunning',
  SUCCEEDED: 'execSucceeded',
  FAILED: 'execFailed',
  TIMED_OUT: 'execTimedOut',
  ABORTED: 'execAborted',
};

/** A status badge, in the page's language when `t` knows the word (else as recorded). */
export function Status(props: { value: string; t?: Translate }) {
  const key = STATUS_WORDS[props.value];
  return <span class={`status s-${props.value}`}>{key && props.t ? props.t(key) : props.value}</span>;
}

export function executionLink(arn: string): string {
  return `/console/executions/${encodeURIComponent(arn)}`;
}

/** A time as `<time datetime>`: UTC text that the page script shows in the viewer's zone, with a relative time. */
export function Time(props: { value: string | Date | undefined }) {
  if (!props.value) return <span />;
  const iso = props.value instanceof Date ? props.value.toISOString() : props.value;
  return <time datetime={iso}>{iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

/** A translated sentence with a time in it (`{since}`): the time as a <Time>, so it is shown in the viewer's zone. */
export function WithTime(props: { text: (marker: string) => string; value: string | Date | undefined }) {
  const marker = '\u0000';
  const [before, after] = props.text(marker).split(marker);
  return (
    <>
      {before}
      <Time value={props.value} />
      {after ?? ''}
    </>
  );
}
