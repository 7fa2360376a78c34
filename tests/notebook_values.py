"""Values printed in the course notebook "Initialization" (../shared/seeds/), copied from its text."""

COSTS = {
    "zeros": [0.6931471805599453] * 10 + [0.6931471805599455] + [0.6931471805599453] * 4,
    "random": [
        float("inf"), 0.6247924745506072, 0.5980258056061102, 0.5637539062842213, 0.5501256393526495,
        0.5443826306793814, 0.5373895855049121, 0.47157999220550006, 0.39770475516243037,
        0.3934560146692851, 0.3920227137490125, 0.38913700035966736, 0.3861358766546214,
        0.38497629552893475, 0.38276694641706693,
    ],
    "he": [
        0.8830537463419761, 0.6879825919728063, 0.6751286264523371, 0.6526117768893805,
        0.6082958970572938, 0.5304944491717495, 0.4138645817071794, 0.3117803464844441,
        0.23696215330322562, 0.1859728720920684, 0.15015556280371808, 0.12325079292273551,
        0.09917746546525937, 0.08457055954024283, 0.07357895962677366,
    ],
}
ACCURACY = {"zeros": (0.5, 0.5), "random": (0.83, 0.86), "he": (0.9933333333333333, 0.96)}

# initialize_parameters_random([3, 2, 1]) and initialize_parameters_he([2, 4, 1]), as printed (8 digits)
RANDOM_W1 = [[17.88628473, 4.36509851, 0.96497468], [-18.63492703, -2.77388203, -3.54758979]]
RANDOM_W2 = [[-0.82741481, -6.27000677]]
HE_W1 = [[1.78862847, 0.43650985], [0.09649747, -1.8634927], [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]]
HE_W2 = [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]]

# The notebook's model() cell, verbatim but for its plotting lines (here after `plt.` calls are kept).
MODEL_CELL = '''
def model(X, Y, learning_rate = 0.01, num_iterations = 15000, print_cost = True, initialization = "he"):
    grads = {}
    costs = [] # to keep track of the loss
    m = X.shape[1] # number of examples
    layers_dims = [X.shape[0], 10, 5, 1]

    # Initialize parameters dictionary.
    if initialization == "zeros":
        parameters = initialize_parameters_zeros(layers_dims)
    elif initialization == "random":
        parameters = initialize_parameters_random(layers_dims)
    elif initialization == "he":
        parameters = initialize_parameters_he(layers_dims)

    # Loop (gradient descent)

    for i in range(num_iterations):

        # Forward propagation: LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID.
        a3, cache = forward_propagation(X, parameters)

        # Loss
        cost = compute_loss(a3, Y)

        # Backward propagation.
        grads = backward_propagation(X, Y, cache)

        # Update parameters.
        parameters = update_parameters(parameters, grads, learning_rate)

        # Print the loss every 1000 iterations
        if print_cost and i % 1000 == 0:
            print("Cost after iteration {}: {}".format(i, cost))
            costs.append(cost)

    # plot the loss
    plt.plot(costs)
    plt.ylabel('cost')
    plt.xlabel('iterations (per hundreds)')
    plt.title("Learning rate =" + str(learning_rate))
    plt.show()

    return parameters
'''

PLOT_CELL = '''
plt.title("Model with He initialization")
axes = plt.gca()
axes.set_xlim([-1.5,1.5])
axes.set_ylim([-1.5,1.5])
plot_decision_boundary(lambda x: predict_dec(parameters, x.T), train_X, train_Y)
'''
