document.getElementById("root")!.textContent = "Tandem";
