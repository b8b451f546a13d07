/* The book's pages run MathJax 3 (Sphinx's choice); the Jupyter widget library still calls MathJax 2's
   MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) when it renders a widget's label or HTML. Loaded
   before the widget renderer (build_course.py, nb_ipywidgets_js), this gives whatever window.MathJax becomes
   a Hub whose Queue typesets with MathJax 3 once it has started. */
(function () {
  function typeset(mj, args) {
    var elements = [];
    Array.prototype.forEach.call(args, function (item) {
      if (typeof item === "function") { elements.push(item); }
      else if (item && item.length && item[0] === "Typeset") { elements.push(item[2] || document.body); }
    });
    var ready = (mj.startup && mj.startup.promise) || Promise.resolve();
    return ready.then(function () {
      var nodes = elements.filter(function (e) { return typeof e !== "function"; });
      var done = nodes.length && mj.typesetPromise ? mj.typesetPromise(nodes) : Promise.resolve();
      return done.then(function () {
        elements.forEach(function (e) { if (typeof e === "function") { e(); } });
      });
    }).catch(function () { /* a label that cannot be typeset stays as text */ });
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      mj.Hub = { Queue: function () { return typeset(mj, arguments); },
                 Typeset: function (el) { return typeset(mj, [["Typeset", null, el]]); },
                 Config: function () {}, Configured: function () {},
                 Register: { StartupHook: function () {}, MessageHook: function () {} } };
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true, enumerable: true,
    get: function () { return withHub(current); },
    set: function (value) { current = value; }
  });
})();
