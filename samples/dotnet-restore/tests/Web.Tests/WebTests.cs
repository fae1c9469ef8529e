public class WebTests {}
