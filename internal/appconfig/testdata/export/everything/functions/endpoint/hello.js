exports = ({ query }, response) => {
  response.setBody(`Hello, ${query.name}`);
};
