// Starts Swagger UI on /api/v1/docs with the settings the page carries (api/templates/swagger_ui.html).
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  window.ui = SwaggerUIBundle(config);
});
