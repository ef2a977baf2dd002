// Starts GraphiQL on this server's API: operations by POST to /graphql, subscriptions
// over WebSocket at the same address (graphql-transport-ws). A file of its own, because
// the page's CSP allows no inline script. Headers typed in GraphiQL's header editor,
// such as {"Authorization": "Bearer ..."}, go with every request and, for
// subscriptions, in the connection_init payload.
(function () {
  'use strict';
  var url = new URL('/graphql', window.location.href);
  var subscriptionUrl = new URL(url.href);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: subscriptionUrl.href,
  });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // The Headers tab opens empty: without a token the API answers as the public,
      // and the schema still loads. Add {"Authorization": "Bearer <token>"} there.
      defaultEditorToolsVisibility: true,
    })
  );
})();
