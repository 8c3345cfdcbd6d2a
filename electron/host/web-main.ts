// placeholder: replaced by the web-mode entry
export {};
