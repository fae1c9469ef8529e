app.MapGet("/", () => "shop");
