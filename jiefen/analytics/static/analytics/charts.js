// Draws every chart of an analytics page from the ECharts options the server embedded (json_script); a click
// on a bar, slice or marker opens the cases behind it (option.drill[dataIndex]).
(function () {
  "use strict";
  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw() {
    if (!window.echarts) { return; }
    var streets = read("geo-streets"), communities = read("geo-communities");
    if (streets) { echarts.registerMap("jiefen-streets", streets); }
    if (communities) { echarts.registerMap("jiefen-communities", communities); }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = read(el.getAttribute("data-chart"));
      if (!option) { return; }
      var drill = option.drill || [];
      delete option.drill;
      (option.series || []).forEach(function (s) {
        if (s.symbolSize === "__heat__") {
          s.symbolSize = function (v) { return Math.max(8, Math.min(48, 6 + Math.sqrt(v[2]) * 4)); };
        }
      });
      option.animation = false;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      chart.on("click", function (p) {
        var url = drill[p.dataIndex];
        if (url && p.componentType === "series" && (p.seriesType !== "map")) { window.location.href = url; }
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-drawn", "1");
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
