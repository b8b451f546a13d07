/* The course's decks (tools/course_slides.py): reveal.js at 1280x720, linear navigation, and a fit check.
   After MathJax has typeset a slide, a slide whose content is still taller than its box is scaled down to fit
   (data-nst-scale says by how much; the build's estimates keep this rare) and display equations wider than
   the slide are set smaller. window.nstFitted counts the slides checked (the browser test waits for it). */
var NST = { width: 1280, height: 720, padTop: 22, padX: 40, footer: 46 };

function nstLeafSections() {
  return Array.prototype.filter.call(document.querySelectorAll(".reveal .slides section"),
    function (s) { return !s.querySelector("section"); });
}

function nstWrap() {
  nstLeafSections().forEach(function (s) {
    if (s.firstElementChild && s.firstElementChild.classList.contains("nst-fit")) return;
    var box = document.createElement("div");
    box.className = "nst-fit";
    while (s.firstChild) {
      box.appendChild(s.firstChild);
    }
    // speaker notes stay direct children of the section (the notes plugin looks for them there)
    Array.prototype.slice.call(box.querySelectorAll("aside.notes")).forEach(function (a) { s.appendChild(a); });
    s.insertBefore(box, s.firstChild);
  });
}

function nstFit(section) {
  if (!section || section.querySelector("section")) return;
  var box = section.querySelector(":scope > .nst-fit");
  if (!box) return;
  // display equations wider than the slide: smaller, down to 60 %
  Array.prototype.forEach.call(box.querySelectorAll(".MJXc-display, .MathJax_Display"), function (d) {
    var math = d.firstElementChild;
    if (!math) return;
    d.style.fontSize = "";
    var scale = 1;
    while (d.scrollWidth > d.clientWidth + 1 && scale > 0.6) {
      scale -= 0.05;
      d.style.fontSize = Math.round(scale * 100) + "%";
    }
  });
  box.style.transform = "";
  box.style.width = "";
  var room = NST.height - NST.padTop - NST.footer;
  var scale = 1;
  for (var i = 0; i < 4 && box.scrollHeight * scale > room + 1; i++) {
    scale = Math.max(0.5, room / box.scrollHeight * scale);
    box.style.transformOrigin = "0 0";
    box.style.transform = "scale(" + scale + ")";
    box.style.width = (100 / scale) + "%";
  }
  if (scale < 1) section.setAttribute("data-nst-scale", scale.toFixed(3));
  else section.removeAttribute("data-nst-scale");
  section.setAttribute("data-nst-fitted", "1");
  window.nstFitted = (window.nstFitted || 0) + 1;
}

function nstAfterMath(section, then) {
  if (window.MathJax && MathJax.Hub && MathJax.Hub.Queue) {
    if (section && MathJax.Hub.getAllJax(section).length) MathJax.Hub.Queue(["Rerender", MathJax.Hub, section]);
    MathJax.Hub.Queue(then);
  } else {
    then();
  }
}

function nstStartDeck(Reveal, RevealNotes) {
  var printing = /print-pdf/i.test(window.location.search);
  nstWrap();
  Reveal.initialize({
    width: NST.width, height: NST.height, margin: 0.04, minScale: 0.2, maxScale: 2.0, center: false,
    controls: true, controlsLayout: "bottom-right", controlsTutorial: false, controlsBackArrows: "faded",
    progress: true, history: true, hash: true, slideNumber: "c/t", navigationMode: "linear",
    transition: "none", backgroundTransition: "none", viewDistance: 2,
    pdfSeparateFragments: false, pdfMaxPagesPerSlide: 1,
    plugins: [RevealNotes]
  });
  window.nstReveal = Reveal;
  var fitCurrent = function () {
    var slide = Reveal.getCurrentSlide();
    nstAfterMath(slide, function () { nstFit(slide); });
  };
  Reveal.on("ready", function () {
    if (printing) {
      nstAfterMath(null, function () { nstLeafSections().forEach(nstFit); window.nstPrintReady = true; });
    } else {
      fitCurrent();
    }
  });
  Reveal.on("slidechanged", fitCurrent);
}
